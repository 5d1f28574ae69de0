"""The bot's heartbeat: a small file (owner-only) the running bot rewrites every `beat_s`, and
marks stopped when it ends cleanly with nothing left live. The dead-man's switch reads it: a
beat that stops changing, or a bot gone without saying it stopped, fires the switch.

The file holds the bot's pid, a beat count and its state; no time of the beat: the reader
judges staleness by its own monotonic clock (how long since the beat count changed), so two
processes' clocks never need to agree. It also names the quotes whose submit's outcome the bot
does not know (in flight, unanswered), each with the instant (UTC, on the bot's clock: its
valid-until plus the venue clock's margin) until which it may yet go live: a switch firing on
the bot looks for them until then, as the bot would have."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from quoter.basics.private_file import write_private
from quoter.clock import Clock


class BeatState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # a clean stop, every quote withdrawn: nothing for the switch to do


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A quote whose submit's outcome is unknown, and until when it may be live at the venue."""

    client_quote_id: str
    look_until: datetime


@dataclass(frozen=True, slots=True)
class Beat:
    pid: int
    count: int
    state: BeatState
    unsettled: tuple[Unsettled, ...] = ()


def read_beat(path: Path) -> Beat | None:
    """The heartbeat as the file has it, or None (missing, or half-written by a crash)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        unsettled = tuple(
            Unsettled(str(u["client-quote-id"]), _aware(datetime.fromisoformat(u["look-until"])))
            for u in raw.get("unsettled", ())
        )
        return Beat(int(raw["pid"]), int(raw["count"]), BeatState(raw["state"]), unsettled)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("look-until without a timezone")
    return at


def write_beat(path: Path, beat: Beat) -> None:
    """Atomically (temp file, rename), readable by its owner only. No fsync: the reader is on
    this machine and reads the page cache; a lost beat after a power cut is no loss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{beat.pid}.tmp")
    body = {
        "pid": beat.pid,
        "count": beat.count,
        "state": beat.state.value,
        "unsettled": [
            {"client-quote-id": u.client_quote_id, "look-until": u.look_until.isoformat()}
            for u in beat.unsettled
        ],
    }
    write_private(path, json.dumps(body), tmp=tmp, fsync=False)


Unsettling = Callable[[], tuple[Unsettled, ...]]


class Heartbeat:
    """The bot's side: `run` beats until cancelled, each beat naming what `unsettled` answers;
    `stopped` says the stop was clean, `beat` once more what an unclean one left unsettled."""

    def __init__(self, path: Path, beat_s: float, clock: Clock, pid: int | None = None) -> None:
        self.path = path
        self._beat_s = beat_s
        self._clock = clock
        self._pid = os.getpid() if pid is None else pid
        self._count = 0
        self._unsettled: Unsettling = tuple
        self.said_stopped = False

    def beat(self) -> None:
        self._count += 1
        beat = Beat(self._pid, self._count, BeatState.RUNNING, self._unsettled())
        write_beat(self.path, beat)

    async def run(self, unsettled: Unsettling = tuple) -> None:
        self._unsettled = unsettled
        while True:
            self.beat()
            await self._clock.sleep(self._beat_s)

    def stopped(self) -> None:
        write_beat(self.path, Beat(self._pid, self._count + 1, BeatState.STOPPED))
        self.said_stopped = True
