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


def test_idle_waits_for_what_is_ready_and_says_how_far_the_next_wake_is() -> None:
    loop = VirtualTimeLoop(ManualClock(SANDBOX_START), threads_take_real_time=False)
    clock = loop.clock
    ran: list[str] = []

    async def chain() -> None:
        for step in ("a", "b", "c"):  # three loop turns, no time
            await asyncio.sleep(0)
            ran.append(step)
        await clock.sleep(7)
        ran.append("woke")

    async def scenario() -> list[object]:
        seen: list[object] = []
        task = asyncio.get_running_loop().create_task(chain())
        loop_timer = asyncio.get_running_loop().call_later(3, lambda: ran.append("timer"))
        seen.append((await loop.idle(), list(ran), clock.monotonic()))
        clock.advance(3)  # the driver steps time: to the loop's timer
        seen.append((await loop.idle(), list(ran), clock.monotonic()))
        loop_timer.cancel()
        clock.advance(4)
        await task
        seen.append((await loop.idle(), list(ran), clock.monotonic()))
        return seen

    assert _run(loop, scenario()) == [
        (3.0, ["a", "b", "c"], 0.0),  # the timer in 3 s is sooner than the clock's 7 s
        (4.0, ["a", "b", "c", "timer"], 3.0),
        (None, ["a", "b", "c", "timer", "woke"], 7.0),  # nothing left to wake
    ]


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
