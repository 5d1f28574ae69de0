"""An event loop on a `ManualClock`: `loop.time()` is the clock's, so `asyncio.sleep`,
`asyncio.timeout`, `call_later` and `clock.sleep` all run on one virtual time, which jumps to the
next timer whenever nothing is ready. A test marked `@pytest.mark.asyncio(loop_factories=
["virtual-time"])` runs on it (see tests/conftest.py) and reads the clock with `virtual_clock()`.

Threads (a strategy's own, `asyncio.to_thread`) still take real time: while the loop's default
executor has work out, or a thread started since the loop was is alive, time passes as the loop
really waits, so a timeout around a slow thread still fires and a quick one is not cut off. Real I/O is refused: a socket's answer takes real time the virtual clock
would skip, so a test with a socket belongs on the real loop.
"""

from __future__ import annotations

import asyncio
import selectors
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from quoter.backtest.driver import TrackedExecutor
from quoter.clock import ManualClock

T = TypeVar("T")


class RealIOError(RuntimeError):
    """Something on a virtual-time loop waited on a real file descriptor."""


class Deadlock(RuntimeError):
    """Nothing ready, no timer, no sleeper and no thread: the test would wait forever."""


class VirtualSelector(selectors.DefaultSelector):
    """The loop's selector: real for the loop's own wake-up pipe (threads hand results back
    through it), virtual time for every other wait."""

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        foreign = [key for key in self.get_map().values() if key.fd != self.loop.wakeup_fd]
        if foreign:
            raise RealIOError(
                f"real I/O on a virtual-time loop (fd {foreign[0].fd}, {foreign[0].fileobj!r}): "
                "a test with a socket runs on the real loop"
            )
        # Busy first: a thread that finished after this wrote its answer to the pipe before
        # it stopped counting, so the select below sees it.
        busy = self.loop.executor.busy() or self.loop.threads_started()
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        wait_s = self.loop.virtual_wait_s(timeout)
        if busy:  # a thread is working: time passes as it really does
            started = time.monotonic()
            ready = super().select(wait_s)
            waited_s = time.monotonic() - started
            self.loop.clock.advance(waited_s if wait_s is None else min(waited_s, wait_s))
            return ready
        if wait_s is None:
            raise Deadlock("nothing ready, no timer, no sleeper, no thread: this would hang")
        self.loop.clock.advance(wait_s)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        selector = VirtualSelector()
        selector.loop = self
        super().__init__(selector)
        self.executor = TrackedExecutor(4)  # the replay driver's: knows what is on its way back
        self.set_default_executor(self.executor)
        self._threads_before = set(threading.enumerate())

    def threads_started(self) -> bool:
        """A thread started since this loop was (a strategy's own, say) is still running: it
        may hand the loop an answer at any moment, so time must pass as it really does."""
        return any(
            t.is_alive() and not t.name.startswith("virtual-time")
            for t in threading.enumerate()
            if t not in self._threads_before
        )

    @property
    def wakeup_fd(self) -> int:
        return int(self._ssock.fileno())  # type: ignore[attr-defined]

    def time(self) -> float:
        return self.clock.monotonic()

    async def shutdown_default_executor(self) -> None:
        # asyncio's own waits for a plain thread, which this loop cannot see: join it here.
        self.executor.shutdown(wait=True)

    def virtual_wait_s(self, timeout: float | None) -> float | None:
        """Until the loop's next timer (`timeout`) or the clock's next sleeper, if sooner."""
        wake = self.clock.next_wake_s()
        if wake is None:
            return timeout
        until_wake_s = max(0.0, wake - self.clock.monotonic())
        return until_wake_s if timeout is None else min(timeout, until_wake_s)


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
