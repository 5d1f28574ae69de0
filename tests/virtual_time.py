"""The virtual-time loop for tests (quoter.backtest.virtual_time, which the replay driver runs
on): `loop.time()` is the ManualClock's, so `asyncio.sleep`, `asyncio.timeout`, `call_later` and
`clock.sleep` all run on one virtual time, which jumps to the next timer whenever nothing is
ready. A test marked `@pytest.mark.asyncio(loop_factories=["virtual-time"])` runs on it (see
tests/conftest.py) and reads the clock with `virtual_clock()`.

Threads (a strategy's own, `asyncio.to_thread`) still take real time here: while the loop's
default executor has work out, or a thread started since the loop was is alive, time passes as
the loop really waits, so a timeout around a slow thread still fires and a quick one is not cut
off. Real I/O is refused: a test with a socket belongs on the real loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from quoter.backtest.virtual_time import (
    Deadlock,
    RealIOError,
    TrackedExecutor,
    VirtualSelector,
    VirtualTimeLoop,
)
from quoter.clock import ManualClock

__all__ = [
    "Deadlock",
    "RealIOError",
    "TrackedExecutor",
    "VirtualSelector",
    "VirtualTimeLoop",
    "run_on_virtual_time",
    "virtual_clock",
    "virtual_time_loop",
]

T = TypeVar("T")


def virtual_time_loop(start: datetime) -> VirtualTimeLoop:
    return VirtualTimeLoop(ManualClock(start))


def run_on_virtual_time(
    scenario: Callable[[ManualClock], Coroutine[Any, Any, T]], start: datetime
) -> T:
    """`asyncio.run` on a fresh virtual-time loop from `start`, for a synchronous test (a
    hypothesis property runs many scenarios in one test)."""
    loop = virtual_time_loop(start)
    try:
        return loop.run_until_complete(scenario(loop.clock))
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def virtual_clock() -> ManualClock:
    """The clock of the running virtual-time loop."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualTimeLoop):
        raise RuntimeError("not on a virtual-time loop: mark the test virtual-time")
    return loop.clock
