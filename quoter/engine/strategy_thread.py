"""Strategies evaluated off the event loop, each call in a daemon thread of its own: a strategy
that hangs or spins is cut off at its timeout, is not called again while its thread still runs,
and never keeps the process from exiting (the executor's threads of `asyncio.to_thread` are
joined at exit, so one busy loop would hold a stopped bot forever)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class StrategyEscaped(Exception):
    """A strategy's thread ended by a BaseException that is not an Exception."""


class StrategyThreads:
    """At most one overrunning call per strategy object: while it runs, the strategy is busy."""

    def __init__(self) -> None:
        self._running: dict[int, threading.Thread] = {}

    def busy(self, strategy: object) -> bool:
        thread = self._running.get(id(strategy))
        if thread is not None and not thread.is_alive():
            del self._running[id(strategy)]
            return False
        return thread is not None

    async def call(self, strategy: object, work: Callable[[], T], timeout_s: float) -> T:
        """`work()` in a daemon thread; TimeoutError after `timeout_s`, the thread left to end
        by itself and the strategy marked busy until it does."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: T | None, error: Exception | None) -> None:
            if future.done():  # cancelled: timed out, or the engine stopped
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def deliver(result: T | None, error: Exception | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: no one waits any more
                loop.call_soon_threadsafe(settle, result, error)

        def run() -> None:
            try:
                result = work()
            except BaseException as error:  # a thread's end is its own: carried to the loop
                # SystemExit or KeyboardInterrupt from a strategy must not end the bot.
                escaped = error if isinstance(error, Exception) else StrategyEscaped(repr(error))
                deliver(None, escaped)
            else:
                deliver(result, None)

        thread = threading.Thread(target=run, name="strategy", daemon=True)
        thread.start()
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            self._running[id(strategy)] = thread
            raise
