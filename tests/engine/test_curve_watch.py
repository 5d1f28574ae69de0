import asyncio
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from quoter.clock import ManualClock
from quoter.domain.market import Commodity
from quoter.engine.curve_watch import CurveStore
from quoter.pricing.curve import CurveSet
from quoter.pricing.curve_files import CurveLoad, SeriesVet, load_curve_set
from tests.pricing.test_curve_files import series_rows, write_csv

DE = (Commodity.POWER, "DE")
FR = (Commodity.POWER, "FR")
NOW = datetime(2026, 3, 28, 12, tzinfo=UTC)
# After the files' mtimes, their curve date when they have no as_of column.
LATER = datetime.now(UTC) + timedelta(hours=1)
T = TypeVar("T")


def rewrite(path: Path, rows: list[str], *, bump_s: int) -> None:
    """Write and move the mtime on, so the change shows even within one clock tick."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    write_csv(path, rows)
    stamp = before + bump_s * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


async def test_refresh_picks_up_a_changed_file_and_skips_an_unchanged_one(tmp_path: Path) -> None:
    file = tmp_path / "c.csv"
    rewrite(file, series_rows("DE", level=80), bump_s=0)
    store = CurveStore(file)
    assert await store.refresh(LATER)
    assert store.current[DE].prices[0] == 80.0
    assert not await store.refresh(LATER)
    rewrite(file, series_rows("DE", level=90), bump_s=1)
    assert await store.refresh(LATER)
    assert store.current[DE].prices[0] == 90.0
    assert store.generation == 2


async def test_a_broken_replacement_keeps_the_last_good_series(tmp_path: Path) -> None:
    file = tmp_path / "c.csv"
    rewrite(file, series_rows("DE") + series_rows("FR", level=70), bump_s=0)
    store = CurveStore(file)
    await store.refresh(LATER)
    good = store.current[DE]
    broken = series_rows("DE")
    broken[3] = broken[3].rsplit(",", 1)[0] + ",nan"
    rewrite(file, broken + series_rows("FR", level=75), bump_s=1)
    assert await store.refresh(LATER)
    assert store.current[DE] is good
    assert store.current[FR].prices[0] == 75.0
    assert [(p.row, p.column) for p in store.problems] == [(5, "price")]


async def test_an_unreadable_file_keeps_its_series_and_a_removed_series_goes(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path / "a.csv", series_rows("DE"))
    write_csv(tmp_path / "b.csv", series_rows("FR"))
    store = CurveStore(tmp_path)
    await store.refresh(LATER)
    (tmp_path / "a.csv").write_text("garbage\n")
    os.utime(tmp_path / "a.csv", ns=(1, 1))
    await store.refresh(LATER)
    assert set(store.current) == {DE, FR}
    assert store.problems[0].file == str(tmp_path / "a.csv")
    (tmp_path / "b.csv").unlink()
    await store.refresh(LATER)
    assert set(store.current) == {DE}


async def test_ages_and_staleness_are_per_series(tmp_path: Path) -> None:
    old = "2026-03-27T12:00:00Z"
    rows = series_rows("DE", as_of=old) + series_rows("FR", as_of="2026-03-28T11:00:00Z")
    write_csv(tmp_path / "c.csv", rows, as_of=True)
    store = CurveStore(tmp_path / "c.csv")
    await store.refresh(LATER)
    assert store.ages_s(NOW) == {DE: 86400.0, FR: 3600.0}
    assert store.stale(NOW, max_age_s=36000) == {DE}


async def test_a_fixed_store_never_reloads() -> None:
    store = CurveStore(None, initial=CurveSet({}))
    assert not await store.refresh(LATER)
    assert len(store.current) == 0


async def test_the_parse_runs_off_the_event_loop(tmp_path: Path) -> None:
    write_csv(tmp_path / "c.csv", series_rows("DE"))
    entered, release = threading.Event(), threading.Event()

    def slow_load(path: Path, vet: SeriesVet) -> CurveLoad:
        entered.set()
        assert release.wait(timeout=5)
        return load_curve_set(path, vet)

    store = CurveStore(tmp_path / "c.csv", load=slow_load)
    refreshing = asyncio.create_task(store.refresh(LATER))
    assert await asyncio.to_thread(entered.wait, 5)
    ticks = 0
    for _ in range(10):
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 10
    assert not refreshing.done()
    release.set()
    assert await asyncio.wait_for(refreshing, timeout=5)


async def inline(work: Callable[[], T], /) -> T:
    return work()


async def settle() -> None:
    """Let every ready task run until it waits on the clock again."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_watch_polls_on_the_injected_clock(tmp_path: Path) -> None:
    file = tmp_path / "c.csv"
    rewrite(file, series_rows("DE", level=80), bump_s=0)
    store = CurveStore(file, run_in_thread=inline)
    clock = ManualClock(LATER)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(store.watch(clock, poll_interval_s=5.0, stop=stop))
        await settle()
        assert clock.next_wake_s() == 5.0
        assert store.current[DE].prices[0] == 80.0
        rewrite(file, series_rows("DE", level=95), bump_s=1)
        clock.advance(4.0)
        await settle()
        assert store.generation == 1  # not yet time
        clock.advance(1.0)
        await settle()
        assert clock.next_wake_s() == 10.0
        assert store.current[DE].prices[0] == 95.0
        stop.set()
        clock.advance(5.0)
    assert store.generation == 2


async def test_a_missing_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    store = CurveStore(tmp_path / "nowhere.csv")
    await store.refresh(LATER)
    assert "no such file" in store.problems[0].message
