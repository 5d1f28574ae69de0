"""Kills timed end to end over HTTP: from the kill's start until the venue (a `quoter sandbox`
process) lists none of our quotes live, with ~50 live. Healthy: `quoter kill` through the
running bot (and again with a fifth of the withdrawals answered 503 once). Hung: the bot stopped
by SIGSTOP, then `quoter kill` (its start, the 1 s wait for the bot, the venue sweep). Dead:
the bot killed by SIGKILL, timed from the signal, its dead-man's switch doing the rest.

Each round starts a fresh bot, gets its quotes live and waits until the token bucket the bot
left in its quota ledger holds a token for each withdrawal (not timed): a desk's quotes go out
over minutes, not in one burst. With fewer tokens the rate bounds the kill: the bot's polling
always leaves 30 (the withdrawal and submit reserves), and 50 withdrawals from 30 tokens wait
about 2.4 s more at 9 a second. Bounded: ROUNDS per case, every wait with a deadline; about three minutes in all."""

from __future__ import annotations

import json
import re
import signal
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.engine.bots import (
    Desk,
    desk,
    kill_command,
    live_quotes,
    quoting_bot,
    reap_pid,
    sandbox,
    supervisor_pid,
    write_bot_config,
)
from tests.engine.processes import SandboxProcess, tail, wait_for

QUOTES = 50
ROUNDS = 6
LOOK_S = 0.02
WITHDRAWN_WITHIN_S = 20.0
SETTLED_TOKENS = QUOTES + 5  # a token for each withdrawal, two lists and a token request
SETTLE_WITHIN_S = 20.0
SWEEP_TOOK = re.compile(r"at the venue: .* \((\d+\.\d) s\)")


def _until_none_live(venue: SandboxProcess, started: float, d: Desk) -> float:
    while live_quotes(venue) > 0:
        if time.monotonic() - started > WITHDRAWN_WITHIN_S:
            raise AssertionError(f"quotes still live after {WITHDRAWN_WITHIN_S} s\n{tail(d.log)}")
        time.sleep(LOOK_S)
    return time.monotonic() - started


def _settle(d: Desk) -> None:
    """Until the bucket the bot left in its quota ledger (the one the kill goes on from) holds
    a token for every withdrawal: otherwise the kill waits on the rate, 9 tokens a second."""

    def level() -> float:
        entries = json.loads((d.var / "quota-ledger.json").read_text(encoding="utf-8"))
        entry = next(iter(entries["keys"].values()))
        at = datetime.fromisoformat(entry["bucket-at"])
        refilled = entry["bucket-level"] + (datetime.now(UTC) - at).total_seconds() * 9.0
        return float(min(90.0, refilled))

    wait_for(lambda: level() >= SETTLED_TOKENS, SETTLE_WITHIN_S, "the bucket to refill", d.log)


def _fault(venue: SandboxProcess, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{venue.base_url}/_sandbox/faults",
        json.dumps(body).encode(),
        {"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5.0):
        pass


def _healthy_round(venue: SandboxProcess, d: Desk, failing: int = 0) -> tuple[float, float]:
    """The bot answers: `quoter kill` through its admin interface, the bot withdraws; with
    `failing`, that many of the withdrawals are answered 503 first (retried)."""
    with quoting_bot(venue, d, QUOTES):
        _settle(d)
        if failing:
            _fault(venue, {"kind": "status", "status": 503, "count": failing, "method": "DELETE"})
        started = time.monotonic()
        done = kill_command(d, "--reason", "benchmark")
        took_s = _until_none_live(venue, started, d)
    if done.returncode != 0 or "through the bot" not in done.stdout:
        raise AssertionError(f"quoter kill failed:\n{done.stdout}\n{done.stderr}")
    return took_s, 0.0


def _failing_round(venue: SandboxProcess, d: Desk) -> tuple[float, float]:
    return _healthy_round(venue, d, failing=QUOTES // 5)


def _hung_round(venue: SandboxProcess, d: Desk) -> tuple[float, float]:
    with quoting_bot(venue, d, QUOTES) as bot:
        _settle(d)
        bot.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        done = kill_command(d, "--reason", "benchmark")
        took_s = _until_none_live(venue, started, d)
    found = SWEEP_TOOK.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise AssertionError(f"quoter kill failed:\n{done.stdout}\n{done.stderr}")
    return took_s, float(found.group(1))


def _dead_round(venue: SandboxProcess, d: Desk) -> tuple[float, float]:
    with quoting_bot(venue, d, QUOTES) as bot:
        supervisor = supervisor_pid(d)
        _settle(d)
        try:
            started = time.monotonic()
            bot.kill()
            took_s = _until_none_live(venue, started, d)
        finally:
            reap_pid(supervisor, 15.0)
    return took_s, 0.0


def _case(
    name: str, root: Path, deadman: bool, one: Callable[[SandboxProcess, Desk], tuple[float, float]]
) -> None:
    d = desk(root / name)
    totals: list[float] = []
    sweeps: list[float] = []
    with sandbox(d.root, d.env) as venue:
        # At most QUOTES live: the RFQs of earlier rounds are still open, and quoted again.
        write_bot_config(d, venue.base_url, deadman=deadman, max_quotes=QUOTES)
        for _ in range(ROUNDS):
            (d.var / "kill-latch.json").unlink(missing_ok=True)  # the last round's kill
            total_s, sweep_s = one(venue, d)
            totals.append(total_s)
            sweeps.append(sweep_s)
    print(
        f"{name}: {QUOTES} live quotes, {ROUNDS} rounds: start -> none live "
        f"p50 {_p(totals, 50):.2f} s  p99 {_p(totals, 99):.2f} s  max {max(totals):.2f} s"
    )
    if any(sweeps):
        print(f"{name}: of which the venue sweep p50 {_p(sweeps, 50):.2f} s (as the kill said)")


def _p(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-kill-") as root:
        _case("healthy (quoter kill through the bot)", Path(root), False, _healthy_round)
        _case("healthy, 20% of withdrawals failing once", Path(root), False, _failing_round)
        _case("hung (SIGSTOP, quoter kill)", Path(root), False, _hung_round)
        _case("dead (SIGKILL, dead-man's switch)", Path(root), True, _dead_round)
