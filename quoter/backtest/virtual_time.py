"""An event loop on a `ManualClock`: `loop.time()` is the clock's, so `asyncio.sleep`,
`asyncio.timeout`, `call_later` and `clock.sleep` all run on one virtual time, which jumps to the
next timer or sleeper whenever nothing is ready. The replay driver runs on it, and so do the
tests marked virtual-time (through tests/virtual_time.py).

Work handed to a thread is waited for: while the loop's `TrackedExecutor` has an answer on its
way back, the loop waits for it rather than move time on. With `threads_take_real_time` (the
tests), a thread started since the loop was counts too, and time passes as the loop really
waits, so a timeout around a slow thread still fires and a quick one is not cut off; without it
(a replay), simulated time stands still while a thread works, so a result does not depend on
the machine's speed. Real I/O is refused: a socket's answer takes real time the virtual clock
would skip.
"""

from __future__ import annotations

import asyncio
import selectors
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from quoter.clock import ManualClock, SystemClock

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

IdleStep = Callable[[float | None], bool]  # the seconds to the next wake -> time stepped
THREAD_WAIT_S = 0.001  # a replay's real wait for a thread's answer, between looks


class RealIOError(RuntimeError):
    """Something on a virtual-time loop waited on a real file descriptor."""


class Deadlock(RuntimeError):
    """Nothing ready, no timer, no sleeper and no thread: the loop would wait forever."""


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that knows whether work is still on its way back to the event loop: a
    task counts until its result has been handed to the waiting asyncio future's callbacks."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="virtual-time-worker")
        self._lock = threading.Condition()
        self._pending: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        outer: Future[Any] = Future()
        with self._lock:
            self._pending.add(outer)

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to the awaiting task, as the pool would
                if not outer.cancelled():
                    outer.set_exception(error)
            else:
                if not outer.cancelled():
                    outer.set_result(result)  # runs asyncio's wake-up before we count it done
            finally:
                with self._lock:
                    self._pending.discard(outer)
                    self._lock.notify_all()

        super().submit(run)
        return outer

    def busy(self) -> bool:
        """Work whose answer the loop has not been handed yet (abandoned work does not count)."""
        if not self._pending:  # read without the lock: a stale "busy" only costs one look
            return False
        with self._lock:
            return any(not f.cancelled() for f in self._pending)


class VirtualSelector(selectors.DefaultSelector):
    """The loop's selector: real for the loop's own wake-up pipe (threads hand results back
    through it), virtual time for every other wait."""

    loop: VirtualTimeLoop
    _registered = 0  # file objects registered: counted, not asked of the map on every wait

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        self._registered += 1
        return key

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        key = super().unregister(fileobj)
        self._registered -= 1
        return key

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout == 0:
            # Callbacks are ready. A thread's answer is among them already (handed over by
            # call_soon_threadsafe); the pipe's wake-up byte is read when the loop is idle.
            return []
        loop = self.loop
        if self._registered > 1:  # more than the loop's own wake-up pipe
            self._refuse_real_io()
        # Busy first: a thread that finished after this wrote its answer to the pipe before
        # it stopped counting, so the select below sees it.
        busy = loop.threads_busy()
        ready = super().select(0)
        if ready:
            return ready
        wait_s = loop.virtual_wait_s(timeout)
        if busy:
            return loop.wait_for_threads(self, wait_s)
        if loop.settle_idle(wait_s):
            return []
        if wait_s is None:
            raise Deadlock("nothing ready, no timer, no sleeper, no thread: this would hang")
        loop.clock.advance(wait_s)
        return []

    def real_select(self, timeout_s: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        return super().select(timeout_s)

    def _refuse_real_io(self) -> None:
        foreign = [key for key in self.get_map().values() if key.fd != self.loop.wakeup_fd]
        if foreign:
            raise RealIOError(
                f"real I/O on a virtual-time loop (fd {foreign[0].fd}, {foreign[0].fileobj!r}): "
                "a test with a socket runs on the real loop"
            )


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(
        self, clock: ManualClock, *, workers: int = 4, threads_take_real_time: bool = True
    ) -> None:
        self.clock = clock
        selector = VirtualSelector()
        selector.loop = self
        super().__init__(selector)
        self.executor = TrackedExecutor(workers)  # knows what is on its way back
        self.set_default_executor(self.executor)
        self._real_time_threads = threads_take_real_time
        self._real = SystemClock()
        self._threads_before = set(threading.enumerate())
        self._on_idle: IdleStep | None = None

    def threads_started(self) -> bool:
        """A thread started since this loop was (a strategy's own, say) is still running: it
        may hand the loop an answer at any moment, so time must pass as it really does."""
        return any(
            t.is_alive() and not t.name.startswith("virtual-time")
            for t in threading.enumerate()
            if t not in self._threads_before
        )

    def threads_busy(self) -> bool:
        if self.executor.busy():
            return True
        return self._real_time_threads and self.threads_started()

    @property
    def wakeup_fd(self) -> int:
        return int(self._ssock.fileno())  # type: ignore[attr-defined]

    def time(self) -> float:
        return self.clock.monotonic()

    async def shutdown_default_executor(self) -> None:
        # asyncio's own waits for a plain thread, which this loop cannot see: join it here.
        self.executor.shutdown(wait=True)

    def step_when_idle(self, step: IdleStep | None) -> None:
        """Call `step(wait_s)` each time nothing can run at this instant (no callback ready, no
        thread's answer on its way), `wait_s` being the seconds to the next timer or sleeper
        (None: there is none); the time does not move meanwhile. The step, plain code run
        inside the loop's wait, steps time itself (the replay driver's): it returns True once
        it has, or False to leave the loop to jump to the next wake. None removes it."""
        self._on_idle = step

    def settle_idle(self, wait_s: float | None) -> bool:
        """The loop is idle: the step decides, if there is one."""
        step = self._on_idle
        return step is not None and step(wait_s)

    def wait_for_threads(
        self, selector: VirtualSelector, wait_s: float | None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        """A thread is working: wait for its answer really, moving the clock by what the wait
        took (tests) or not at all (a replay)."""
        if not self._real_time_threads:
            return selector.real_select(THREAD_WAIT_S)
        started = self._real.monotonic()
        ready = selector.real_select(wait_s)
        waited_s = self._real.monotonic() - started
        self.clock.advance(waited_s if wait_s is None else min(waited_s, wait_s))
        return ready

    def virtual_wait_s(self, timeout: float | None) -> float | None:
        """Until the loop's next timer (`timeout`) or the clock's next sleeper, if sooner."""
        wake = self.clock.next_wake_s()
        if wake is None:
            return timeout
        until_wake_s = max(0.0, wake - self.clock.monotonic())
        return until_wake_s if timeout is None else min(timeout, until_wake_s)
