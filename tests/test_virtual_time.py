"""The virtual-time loop: asyncio's timers and the ManualClock on one time that jumps when the
loop is idle, threads on real time, real sockets refused."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest

from tests.conftest import SANDBOX_START
from tests.virtual_time import Deadlock, RealIOError, virtual_clock, virtual_time_loop

virtual = pytest.mark.asyncio(loop_factories=["virtual-time"])


@virtual
async def test_an_hour_of_sleep_passes_at_once_on_the_clock() -> None:
    clock = virtual_clock()
    await asyncio.sleep(3600)
    assert clock.monotonic() == 3600
    assert clock.now() == SANDBOX_START + timedelta(hours=1)


@virtual
async def test_asyncio_timeouts_fire_on_the_manual_clock() -> None:
    clock = virtual_clock()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(5):
            await clock.sleep(10)
    assert clock.monotonic() == 5


@virtual
async def test_clock_sleeps_and_loop_timers_wake_in_time_order() -> None:
    clock = virtual_clock()
    woke: list[tuple[str, float]] = []

    async def on_clock(s: float) -> None:
        await clock.sleep(s)
        woke.append(("clock", clock.monotonic()))

    async def on_loop(s: float) -> None:
        await asyncio.sleep(s)
        woke.append(("loop", clock.monotonic()))

    async with asyncio.TaskGroup() as group:
        group.create_task(on_clock(3))
        group.create_task(on_loop(1))
        group.create_task(on_loop(4))
        group.create_task(on_clock(2))
    assert woke == [("loop", 1), ("clock", 2), ("clock", 3), ("loop", 4)]


@virtual
async def test_a_thread_takes_real_time_so_a_timeout_around_it_still_fires() -> None:
    clock = virtual_clock()
    release = threading.Event()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(release.wait, 5), 0.05)
    release.set()
    assert 0.05 <= clock.monotonic() < 1  # not jumped past the thread, not the thread's 5 s
    assert await asyncio.to_thread(lambda: 42) == 42


@virtual
async def test_a_quick_plain_thread_is_not_cut_off_by_a_timeout_the_clock_jumped_to() -> None:
    """As the engine runs a strategy: its own thread, the answer handed back threadsafe."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[int] = loop.create_future()

    def work() -> None:
        time.sleep(0.05)
        loop.call_soon_threadsafe(answer.set_result, 7)

    threading.Thread(target=work, daemon=True).start()
    assert await asyncio.wait_for(answer, 1.0) == 7
    assert virtual_clock().monotonic() < 1.0


def test_a_real_socket_is_refused_by_name() -> None:
    loop = virtual_time_loop(SANDBOX_START)

    async def serve() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        async with server:
            await asyncio.sleep(1)

    try:
        with pytest.raises(RealIOError, match="real I/O on a virtual-time loop"):
            loop.run_until_complete(serve())
    finally:
        loop.close()


def test_a_wait_nothing_can_end_is_refused_not_hung() -> None:
    loop = virtual_time_loop(SANDBOX_START)
    try:
        with pytest.raises(Deadlock):
            loop.run_until_complete(asyncio.Event().wait())
    finally:
        loop.close()
