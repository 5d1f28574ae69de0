"""The virtual-time loop as the replay driver uses it: an idle point at which the driver steps
time itself, and simulated time standing still while a thread works."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from quoter.backtest.virtual_time import VirtualTimeLoop
from quoter.clock import ManualClock
from tests.conftest import SANDBOX_START

T = TypeVar("T")


def _run(loop: VirtualTimeLoop, scenario: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(scenario)


def test_the_idle_step_runs_once_nothing_is_ready_and_is_told_how_far_the_next_wake_is() -> None:
    loop = VirtualTimeLoop(ManualClock(SANDBOX_START), threads_take_real_time=False)
    clock = loop.clock
    ran: list[str] = []
    seen: list[object] = []

    def step(wait_s: float | None) -> bool:
        """The driver's part: note what ran, then step time to the next wake itself."""
        seen.append((wait_s, list(ran), clock.monotonic()))
        if wait_s is None:
            return False
        clock.advance(wait_s)
        return True

    async def chain() -> None:
        for letter in ("a", "b", "c"):  # three loop turns, no time
            await asyncio.sleep(0)
            ran.append(letter)
        await clock.sleep(7)
        ran.append("woke")

    async def scenario() -> None:
        asyncio.get_running_loop().call_later(3, lambda: ran.append("timer"))
        loop.step_when_idle(step)
        await chain()
        await asyncio.sleep(0)  # one more turn: the step sees nothing left to wake
        loop.step_when_idle(None)

    _run(loop, scenario())
    assert seen == [
        (3.0, ["a", "b", "c"], 0.0),  # the timer in 3 s is sooner than the clock's 7 s
        (4.0, ["a", "b", "c", "timer"], 3.0),
    ]
    assert ran == ["a", "b", "c", "timer", "woke"]
    assert clock.monotonic() == 7.0


def test_without_a_step_the_loop_jumps_to_the_next_wake_itself() -> None:
    loop = VirtualTimeLoop(ManualClock(SANDBOX_START), threads_take_real_time=False)
    declined: list[float | None] = []

    async def scenario() -> float:
        def decline(wait_s: float | None) -> bool:
            declined.append(wait_s)
            return False

        loop.step_when_idle(decline)
        await asyncio.sleep(5)
        return loop.clock.monotonic()

    assert _run(loop, scenario()) == 5.0
    assert declined == [5.0]  # asked, declined: the loop moved the clock


def test_a_replay_loop_waits_for_a_thread_with_the_clock_standing_still() -> None:
    loop = VirtualTimeLoop(ManualClock(SANDBOX_START), threads_take_real_time=False)

    def work() -> int:
        threading.Event().wait(0.05)  # a thread that takes real time
        return 42

    async def scenario() -> tuple[int, float]:
        # A timeout on virtual time around it: no time passes while the thread works, so it
        # cannot fire, however long the machine takes, and the clock is where it was.
        async with asyncio.timeout(0.01):
            got = await asyncio.get_running_loop().run_in_executor(None, work)
        return got, loop.clock.monotonic()

    assert _run(loop, scenario()) == (42, 0.0)


def test_the_loops_own_worker_threads_are_not_threads_a_test_started() -> None:
    loop = VirtualTimeLoop(ManualClock(SANDBOX_START))

    async def scenario() -> bool:
        assert await asyncio.to_thread(lambda: 1) == 1
        return loop.threads_started()  # an idle pool thread: time need not pass as real

    assert _run(loop, scenario()) is False
