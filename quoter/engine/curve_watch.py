"""The curves the bot prices from, kept current: the store polls the files' stats and reloads
changed input in a worker thread, so the event loop never waits on a parse.

A reload that refuses a series (bad syntax, or implausible: curve_checks.py), or cannot read a
file, keeps the last good copy of what it could not read and reports why; that copy's `as_of`
keeps ageing, so staleness still stops quoting. A series whose rows were deliberately removed
from readable files disappears. The engine reports each load's refusals (engine/curve_report.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from quoter.clock import Clock
from quoter.pricing.config import CurvesConfig
from quoter.pricing.curve import CurveSeries, CurveSet, SeriesKey
from quoter.pricing.curve_checks import plausibility
from quoter.pricing.curve_files import (
    CurveLoad,
    CurveProblem,
    SeriesVet,
    curve_files,
    load_curve_set,
)

FileStats = tuple[tuple[str, int, int], ...]
Loader = Callable[[Path, SeriesVet], CurveLoad]
T = TypeVar("T")


class ThreadRunner(Protocol):
    """Runs blocking work off the event loop (`asyncio.to_thread`; tests may run it inline)."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...


def file_stats(path: Path) -> FileStats:
    """(file, mtime_ns, size) of every curve file at `path`; one that cannot be seen is left out."""
    stats = []
    try:
        files = curve_files(path)
    except OSError:  # the load that follows reports it
        return ()
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        stats.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(stats)


def merge_loads(previous: CurveLoad, fresh: CurveLoad, root: str) -> CurveLoad:
    """The fresh load, plus the previous copy of each series the fresh one could not read."""
    series: dict[SeriesKey, CurveSeries] = dict(fresh.curve_set.series)
    sources = dict(fresh.sources)
    failed = fresh.failed_files
    everything_failed = root in failed
    for key, old in previous.curve_set.items():
        old_sources = previous.sources.get(key, ())
        unreadable = key in fresh.refused or any(f in failed for f in old_sources)
        if key not in series and (unreadable or everything_failed):
            series[key] = old
            sources[key] = old_sources
    return CurveLoad(CurveSet(series), fresh.problems, sources)


def curve_age_s(series: CurveSeries, now: datetime) -> float:
    """Seconds since the series' curve date."""
    return (now - series.as_of).total_seconds()


async def _to_thread(work: Callable[[], T], /) -> T:
    return await asyncio.to_thread(work)


class CurveStore:
    """The current curve set and the problems of the last load; `refresh` and `watch` keep it
    current. The caller owns the task that runs `watch`."""

    def __init__(
        self,
        path: Path | None,
        *,
        initial: CurveSet | None = None,
        config: CurvesConfig | None = None,
        load: Loader = load_curve_set,
        run_in_thread: ThreadRunner = _to_thread,
    ) -> None:
        self._path = path
        self._config = config or CurvesConfig()
        self._load_fn = load
        self._run_in_thread = run_in_thread
        self._stats: FileStats | None = None
        self._load = CurveLoad(initial if initial is not None else CurveSet({}), ())
        self._lock = asyncio.Lock()
        self._reloaded = asyncio.Event()
        self.generation = 0

    @property
    def current(self) -> CurveSet:
        return self._load.curve_set

    @property
    def problems(self) -> tuple[CurveProblem, ...]:
        """What the last load refused: a refused series may still quote from its last good copy."""
        return self._load.problems

    @property
    def path(self) -> Path | None:
        return self._path

    async def refresh(self, now: datetime) -> bool:
        """Reload if any curve file changed (mtime or size) since the last look; True if it did.
        `now` is what a curve date may not lie beyond."""
        path = self._path
        if path is None:
            return False
        async with self._lock:
            stats = await self._run_in_thread(lambda: file_stats(path))
            if stats == self._stats:
                return False
            vet = plausibility(self._config, self.current, now)
            fresh = await self._run_in_thread(lambda: self._load_fn(path, vet))
            self._load = merge_loads(self._load, fresh, str(path))
            self._stats = stats
            self.generation += 1
            self._reloaded.set()  # wakes whoever waits in `reloaded`; the next wait is anew
            self._reloaded = asyncio.Event()
            return True

    async def reloaded(self, generation: int) -> None:
        """Return once a load after `generation` has happened."""
        while self.generation == generation:
            await self._reloaded.wait()

    async def watch(
        self, clock: Clock, poll_interval_s: float, stop: asyncio.Event | None = None
    ) -> None:
        """Refresh every `poll_interval_s` of `clock` until `stop` is set or the task is cancelled."""
        while stop is None or not stop.is_set():
            await self.refresh(clock.now())
            await clock.sleep(poll_interval_s)

    def ages_s(self, now: datetime) -> dict[SeriesKey, float]:
        """The age of each series' curve at `now`."""
        return {key: curve_age_s(s, now) for key, s in self.current.items()}

    def stale(self, now: datetime, max_age_s: float) -> frozenset[SeriesKey]:
        """The series older than `max_age_s` at `now`: the bot does not quote from them."""
        return frozenset(key for key, age in self.ages_s(now).items() if age > max_age_s)
