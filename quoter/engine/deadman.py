"""The dead-man's switch: a process beside the bot that watches its heartbeat and, when the
beat stops for `[engine.deadman] timeout_s` or the bot is gone without a clean stop, latches a
kill and withdraws every live quote at the venue (the withdrawal lane, the bot's own quota
ledger). A separate OS process, so a bot killed by SIGKILL or the OOM killer cannot take it
along. `quoter run --config FILE` starts it; by hand: `python -m quoter.engine.deadman`.

    python -m quoter.engine.deadman --config FILE [--pid BOT_PID]

Credentials come from the environment (QUOTER_CLIENT_ID, ...), never the command line. It
ends when the bot stops cleanly or is gone; a bot it fired on for silence that beats again is
watched again. The next `quoter run` starts a new one.

A quote whose submit's outcome the bot did not know when last heard (in flight, unanswered:
its heartbeat names them) may be stored by the venue after the switch's sweep: having fired,
the switch keeps reading the venue's list of our active quotes, withdrawing what it lists, as
the bot would have, until each such quote is found or past its valid-until (plus the venue
clock's margin), or the bot beats again."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from quoter.basics.errors import ConfigError
from quoter.clock import Clock, SystemClock
from quoter.config import QuoterConfig, load_config
from quoter.engine.heartbeat import Beat, BeatState, Unsettled, read_beat
from quoter.engine.killswitch import Kill, KillSwitch, LatchError
from quoter.engine.quotes import LOOK_FIRST, LOOK_MAX
from quoter.engine.sweep import SweepResult, sweep
from quoter.engine.venue_kill import VenueKill, venue_for_kill, withdraw_at_venue
from quoter.venue.config import VenueCredentials, load_credentials

LOOK_S = 0.1  # how often the heartbeat is read: the delay added to a dead bot's kill
BY = "dead-man's switch"


class Verdict(StrEnum):
    WATCH = "watch"
    CLEAN = "clean"  # the bot said it stopped with nothing live
    NEVER_BEAT = "never-beat"  # gone before its first beat: it quoted nothing
    FIRE = "fire"


@dataclass(slots=True)
class Observer:
    """What the switch has seen of one bot's heartbeat; staleness is measured on this
    process's own monotonic clock, from the last time the beat count changed."""

    bot_pid: int
    timeout_s: float
    count: int | None = None
    changed_at_s: float = 0.0
    unsettled: tuple[Unsettled, ...] = ()  # as the bot's last beat named them

    def look(self, alive: bool, beat: Beat | None, now_s: float) -> tuple[Verdict, str]:
        """`alive` must be read before `beat`: a bot that wrote its stop and then exited is
        seen stopped, never as gone without saying so."""
        mine = beat if beat is not None and beat.pid == self.bot_pid else None
        if mine is not None and mine.state is BeatState.STOPPED:
            return Verdict.CLEAN, "the bot stopped cleanly"
        if mine is not None and mine.count != self.count:
            self.count, self.changed_at_s = mine.count, now_s
            self.unsettled = mine.unsettled
        if self.count is None:
            if alive:
                return Verdict.WATCH, "waiting for the first beat"
            return Verdict.NEVER_BEAT, f"bot pid {self.bot_pid} exited before its first beat"
        if not alive:
            return Verdict.FIRE, f"bot pid {self.bot_pid} gone without a clean stop"
        silent_s = now_s - self.changed_at_s
        if silent_s > self.timeout_s:
            return Verdict.FIRE, f"bot pid {self.bot_pid} silent for {silent_s:.1f} s (hung?)"
        return Verdict.WATCH, "beating"


def bot_alive(pid: int) -> bool:
    """Whether process `pid` runs: still our parent, or there and not a zombie."""
    if os.getppid() == pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's: there
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True  # no /proc: kill(0) is all we know
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


async def watch(
    path: Path, observer: Observer, clock: Clock, alive: Callable[[], bool]
) -> tuple[Verdict, str]:
    """Look every LOOK_S until the bot stops cleanly, never beat, or the switch must fire."""
    while True:
        verdict, why = observer.look(alive(), read_beat(path), clock.monotonic())
        if verdict is not Verdict.WATCH:
            return verdict, why
        await clock.sleep(LOOK_S)


async def fire(
    config: QuoterConfig, credentials: VenueCredentials, why: str, clock: Clock
) -> VenueKill:
    """Latch the kill first (a stopped bot, continued, takes it in and halts), then withdraw
    every live quote at the venue."""
    kill = Kill(reason=f"dead-man's switch: {why}", by=BY, at=clock.now())
    try:
        KillSwitch(config.engine.kill.latch_path).kill(kill)
    except LatchError as error:
        _say(f"the kill could not be latched: {error}")
    timeout_s = config.engine.deadman.sweep_timeout_s
    return await withdraw_at_venue(config.venue, credentials, clock, timeout_s=timeout_s)


async def supervise(
    config: QuoterConfig, credentials: VenueCredentials, bot_pid: int, clock: Clock
) -> int:
    """Watch the bot until it stops cleanly or is gone. A bot that hung and was fired on may
    come back (SIGCONT, a loop unstuck) and be resumed by the desk: the switch watches it
    again from its next beat, so it is never left running unwatched."""
    deadman = config.engine.deadman
    path, alive = deadman.heartbeat_path, lambda: bot_alive(bot_pid)
    code = 0
    while True:
        observer = Observer(bot_pid, deadman.timeout_s)
        verdict, why = await watch(path, observer, clock, alive)
        if verdict is not Verdict.FIRE:
            _say(f"{why}: nothing to do")
            return code
        started_s = clock.monotonic()
        _say(f"firing: {why}")
        done = await fire(config, credentials, why, clock)
        for note in done.notes:
            _say(note)
        _say(f"kill latched; {done.describe()} ({clock.monotonic() - started_s:.1f} s)")
        code = max(code, 0 if done.result.complete else 1)
        waiting = still_unsettled(observer.unsettled, done.result, clock.now())
        if waiting:
            await look_for(config, credentials, waiting, observer, clock)
        if not await beats_again(path, observer, clock, alive):
            return code  # gone: nothing of it can quote any more
        _say(f"bot pid {bot_pid} beats again: watching it again")


async def look_for(
    config: QuoterConfig,
    credentials: VenueCredentials,
    waiting: list[Unsettled],
    observer: Observer,
    clock: Clock,
) -> None:
    """Read the venue's list of our active quotes and withdraw what it lists, after 0.5 s,
    1 s, 2 s, ... up to 30 s apart, until every quote of `waiting` is found or past its
    look-until; or until the bot beats again (running, it looks for its own)."""
    path, sweep_s = config.engine.deadman.heartbeat_path, config.engine.deadman.sweep_timeout_s
    until = max(u.look_until for u in waiting)
    _say(f"looking for {len(waiting)} quote(s) whose submit's outcome is unknown, until {until}")
    notes: list[str] = []
    withdrawn, pause_s = 0, LOOK_FIRST.total_seconds()
    async with venue_for_kill(config.venue, credentials, clock, notes) as venue:
        while True:
            await clock.sleep(min(pause_s, (until - clock.now()).total_seconds()))
            pause_s = min(pause_s * 2, LOOK_MAX.total_seconds())
            if heard_again(read_beat(path), observer):
                _say("the bot beats again: it looks for its own quotes")
                return
            waiting = still_unsettled(waiting, None, clock.now())
            if not waiting:
                break
            result = await sweep(venue, clock, timeout_s=sweep_s)
            withdrawn += len(result.withdrawn)
            waiting = still_unsettled(waiting, result, clock.now())
            if not waiting:
                break
    for note in notes:
        _say(note)
    _say(f"done looking: {withdrawn} withdrawn since the firing; the rest found gone or expired")


def still_unsettled(
    waiting: Sequence[Unsettled], result: SweepResult | None, now: datetime
) -> list[Unsettled]:
    """Those of `waiting` the sweep's `result` did not find (withdrawn, or gone already),
    and not yet past their look-until."""
    found = set() if result is None else {q.client_quote_id for q in result.withdrawn}
    if result is not None:
        found |= {q.client_quote_id for q in result.not_active}
    return [u for u in waiting if u.client_quote_id not in found and now < u.look_until]


def heard_again(beat: Beat | None, observer: Observer) -> bool:
    """A beat of the bot's since the last one the observer saw: it runs (or stopped) again."""
    return beat is not None and beat.pid == observer.bot_pid and beat.count != observer.count


async def beats_again(
    path: Path, observer: Observer, clock: Clock, alive: Callable[[], bool]
) -> bool:
    """After a firing on a silent bot: True once it beats again, False once it is gone (or
    stopped cleanly). Until it beats, it has not run, so it has quoted nothing new."""
    while alive():
        beat = read_beat(path)
        if beat is not None and beat.pid == observer.bot_pid:
            if beat.state is BeatState.STOPPED:
                return False
            if beat.count != observer.count:
                return True
        await clock.sleep(LOOK_S)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quoter deadman", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the bot's configuration")
    parser.add_argument("--pid", type=int, help="the bot's process id (default: our parent)")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        credentials = load_credentials()
    except ConfigError as error:
        _say(f"not watching: {error}")
        return 2
    bot_pid: int = os.getppid() if args.pid is None else args.pid
    deadman = config.engine.deadman
    _say(
        f"pid {os.getpid()} watching bot pid {bot_pid} (heartbeat {deadman.heartbeat_path}, "
        f"timeout {deadman.timeout_s:g} s)"
    )
    return asyncio.run(supervise(config, credentials, bot_pid, SystemClock()))


def _say(text: str) -> None:
    print(f"{BY}: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
