"""Where a running demo's sandbox is, for the commands that reach it without `--config`
(`quoter trades export`): its address and its clock, in var/demo/sandbox.json while it runs,
and its throwaway credentials in var/demo/sandbox-credentials.env (both owner-only)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from quoter.clock import Clock, ScaledClock, SystemClock
from quoter.config import DEMO_STATE
from quoter.sandbox.credentials import write_env_file
from quoter.venue.config import VenueCredentials

POINTER = DEMO_STATE / "sandbox.json"
CREDENTIALS = DEMO_STATE / "sandbox-credentials.env"


@dataclass(frozen=True, slots=True)
class DemoVenue:
    """A running demo's sandbox: its URL, and its clock (demo time, ahead of the wall)."""

    base_url: str
    clock_at: datetime  # the demo clock's reading ...
    wall_at: datetime  # ... at this wall time
    speed: float

    def clock(self, wall: Clock | None = None) -> ScaledClock:
        """The demo's clock, read from here: its time now, running at its speed."""
        elapsed_s = ((wall or SystemClock()).now() - self.wall_at).total_seconds()
        now = self.clock_at + timedelta(seconds=elapsed_s * self.speed)
        return ScaledClock(start=now, speed=self.speed)


def announce(
    base_url: str, clock: ScaledClock, credentials: VenueCredentials, pointer: Path = POINTER
) -> None:
    """Say where the demo's sandbox is, for as long as it runs (`withdraw` at its end)."""
    write_env_file(credentials, pointer.with_name(CREDENTIALS.name))
    body = {
        "base-url": base_url,
        "clock-at": clock.now().isoformat(),
        "wall-at": SystemClock().now().isoformat(),
        "speed": clock.speed,
    }
    descriptor = os.open(pointer, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(body, handle)


def withdraw(pointer: Path = POINTER) -> None:
    pointer.unlink(missing_ok=True)


def running_demo(pointer: Path = POINTER) -> DemoVenue | None:
    """The running demo's sandbox, or None (no demo running, or its pointer unreadable)."""
    try:
        body = json.loads(pointer.read_text(encoding="utf-8"))
        return DemoVenue(
            str(body["base-url"]),
            datetime.fromisoformat(body["clock-at"]),
            datetime.fromisoformat(body["wall-at"]),
            float(body["speed"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
