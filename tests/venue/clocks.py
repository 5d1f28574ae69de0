"""Clock drivers for venue tests: nothing here sleeps for real."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from quoter.clock import ManualClock

T = TypeVar("T")

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class InstantClock(ManualClock):
    """A manual clock whose sleeps move time forward at once: for one caller at a time."""

    def __init__(self, start: datetime = START) -> None:
        super().__init__(start)
        self.slept_s: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept_s.append(seconds)
        if seconds > 0:
            self.advance(seconds)
        await asyncio.sleep(0)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def drive(clock: ManualClock, *awaitables: Awaitable[T], max_steps: int = 100_000) -> list[T]:
    """Run `awaitables` together, jumping the clock from one sleeper's wake-up to the next."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        for _ in range(max_steps):
            await settle()
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            wake = clock.next_wake_s()
            if wake is None:
                raise AssertionError("deadlock: tasks wait but nobody sleeps on the clock")
            clock.advance(max(0.0, wake - clock.monotonic()))
        raise AssertionError("did not finish")
    finally:
        for t in tasks:
            t.cancel()
