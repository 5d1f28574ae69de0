"""The replay's progress on stderr: a rich progress bar on a terminal, plain lines now and then
when stderr is a file or a pipe (a log that captures a long replay is not flooded with redraws).
Messages printed through the bar's console go above it instead of through it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from quoter.backtest.driver import Progress as Report
from quoter.clock import Clock, SystemClock

PLAIN_EVERY_S = 10.0  # a plain line at most this often (and one at each run's end)


@contextmanager
def progress_bar(
    label: str,
    *,
    stream: TextIO | None = None,
    every_s: float = PLAIN_EVERY_S,
    clock: Clock | None = None,
) -> Iterator[Report]:
    """A `(done, total)` callback that shows a replay's progress until the block ends."""
    out = stream or sys.stderr
    console = Console(file=out)
    if not console.is_terminal:
        yield plain_lines(label, out, every_s, clock or SystemClock())
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} RFQs"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task: list[TaskID] = []

        def show(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task(label, total=total))
            bar.update(task[0], completed=done, total=total)

        yield show


def plain_lines(label: str, out: TextIO, every_s: float, wall: Clock) -> Report:
    """A line `label: done/total RFQs` at most every `every_s` of real time (the replay's own
    clock is simulated), and at the end of each run."""
    last_s = [-float("inf")]

    def show(done: int, total: int) -> None:
        now_s = wall.monotonic()
        if done < total and now_s - last_s[0] < every_s:
            return
        last_s[0] = now_s
        out.write(f"{label}: {done:,}/{total:,} RFQs\n")
        out.flush()

    return show
