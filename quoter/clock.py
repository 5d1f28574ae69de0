"""Time, injected: the one module that reads the real clock.

Everything else receives a `Clock`. Tests and backtests use `ManualClock`, which never sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """Wall time for the venue's calendar, monotonic time for intervals, and sleeping."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


async def within(clock: Clock, seconds: float, work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s result, or None once `seconds` of `clock` have passed first: `work` is then
    cancelled (a request to the venue in flight with it), and its `finally` blocks have run
    when this returns. On the clock, not the loop: a stop's window is the engine's time."""
    task = asyncio.create_task(work)
    timer = asyncio.create_task(clock.sleep(seconds))
    try:
        await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
    finally:
        task.cancel()  # nothing, if it is done
        timer.cancel()
        await asyncio.wait((task, timer))
    return None if task.cancelled() else task.result()


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Real time shifted and sped up: the sandbox's clock, movable by its controls.

    `speed` 60 makes a minute pass every second; `advance` jumps forward at once.
    """

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._real_t0 = time.monotonic()
        self._start = start if start is not None else datetime.now(UTC)
        self._speed = speed
        self._offset_s = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    def _elapsed_s(self) -> float:
        return (time.monotonic() - self._real_t0) * self._speed + self._offset_s

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed_s())

    def monotonic(self) -> float:
        return self._elapsed_s()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset_s += seconds

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)


class ManualClock:
    """A clock that moves only when told to; sleepers wake when `advance` passes their time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._t = 0.0
        self._now = self._start  # now() kept, not computed: a replay reads it ~25 times a step
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._t + seconds, next(self._seq), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose time has come, in order."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._t += seconds
        self._now = self._start + timedelta(0, self._t)  # seconds: the keyword costs twice this
        while self._sleepers and self._sleepers[0][0] <= self._t:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def next_wake_s(self) -> float | None:
        """The time of the earliest sleeper, for drivers that jump from event to event."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None
