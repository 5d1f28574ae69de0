"""The bot's heartbeat: a small file (owner-only) the running bot rewrites every `beat_s`, and
marks stopped when it ends cleanly with nothing left live. The dead-man's switch reads it: a
beat that stops changing, or a bot gone without saying it stopped, fires the switch.

The file holds the bot's pid, a beat count and its state; no time: the reader judges staleness
by its own monotonic clock (how long since the beat count changed), so two processes' clocks
never need to agree."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from quoter.basics.private_file import write_private
from quoter.clock import Clock


class BeatState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"  # a clean stop, every quote withdrawn: nothing for the switch to do


@dataclass(frozen=True, slots=True)
class Beat:
    pid: int
    count: int
    state: BeatState


def read_beat(path: Path) -> Beat | None:
    """The heartbeat as the file has it, or None (missing, or half-written by a crash)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Beat(int(raw["pid"]), int(raw["count"]), BeatState(raw["state"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_beat(path: Path, beat: Beat) -> None:
    """Atomically (temp file, rename), readable by its owner only. No fsync: the reader is on
    this machine and reads the page cache; a lost beat after a power cut is no loss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{beat.pid}.tmp")
    body = {"pid": beat.pid, "count": beat.count, "state": beat.state.value}
    write_private(path, json.dumps(body), tmp=tmp, fsync=False)


class Heartbeat:
    """The bot's side: `run` beats until cancelled; `stopped` says the stop was clean."""

    def __init__(self, path: Path, beat_s: float, clock: Clock, pid: int | None = None) -> None:
        self.path = path
        self._beat_s = beat_s
        self._clock = clock
        self._pid = os.getpid() if pid is None else pid
        self._count = 0
        self.said_stopped = False

    def beat(self) -> None:
        self._count += 1
        write_beat(self.path, Beat(self._pid, self._count, BeatState.RUNNING))

    async def run(self) -> None:
        while True:
            self.beat()
            await self._clock.sleep(self._beat_s)

    def stopped(self) -> None:
        write_beat(self.path, Beat(self._pid, self._count + 1, BeatState.STOPPED))
        self.said_stopped = True
