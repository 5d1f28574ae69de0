"""The poll loop keeps its per-poll answers (trading hours, the curves' ages) until the instant
they can change: a close, an open or a curve going stale is still seen at that very instant.
On a manual clock, with the replay's in-process venue: no wall-clock waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from quoter.backtest.curves import DailyCurves, StaticCurves
from quoter.backtest.driver import RecordingAudit
from quoter.backtest.fills import AuctionFill
from quoter.backtest.simmarket import SimMarket
from quoter.backtest.simvenue import SimVenue, memory_guard
from quoter.clock import ManualClock
from quoter.engine.build import build_engine
from quoter.engine.config import EngineConfig
from quoter.engine.engine import Engine
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import StrategySlot
from quoter.risk.config import DEMO_RISK
from quoter.strategies_api import load_strategy
from quoter.venue.config import UsagePlanConfig
from tests.backtest.helpers import short_tape, tape_of

MS = timedelta(milliseconds=1)
# Wednesday 25 November 2026: 08:00-18:00 Berlin is 07:00-17:00 UTC; Thursday is a trading day.
CLOSE = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
NEXT_OPEN = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def _engine(tmp_path: Path, start: datetime, curves: StaticCurves) -> tuple[Engine, ManualClock]:
    clock = ManualClock(start)
    tape = tape_of(short_tape(1))
    venue = SimVenue(SimMarket(tape, clock, AuctionFill()), memory_guard(UsagePlanConfig(), clock))
    config = EngineConfig.model_validate(
        {"kill": {"latch_path": tmp_path / "k.json"}, "audit_dir": tmp_path / "audit"}
    )
    engine = build_engine(
        venue,
        clock,
        config,
        DEMO_RISK,
        curves,
        StrategySlot("curve_spread", load_strategy("curve_spread", {})),
        RecordingAudit(),
        KillSwitch(None),
        run_id="boundary",
    )
    return engine, clock


def _curves() -> StaticCurves:
    return StaticCurves(DailyCurves(None, date(2026, 11, 25)).at_day(date(2026, 11, 25)))


def test_the_hours_answer_turns_at_the_close_and_at_the_next_open(tmp_path: Path) -> None:
    start = CLOSE - timedelta(hours=1)
    engine, clock = _engine(tmp_path, start, _curves())
    areas = engine.deps.risk.allowed_areas
    seen = []
    for at in (start, CLOSE - MS, CLOSE, CLOSE + MS, NEXT_OPEN - MS, NEXT_OPEN, NEXT_OPEN + MS):
        clock.advance((at - clock.now()).total_seconds())
        seen.append(engine._market_open(areas, clock.now()))
    assert seen == [True, True, False, False, False, True, True]


def test_a_change_of_areas_is_answered_afresh(tmp_path: Path) -> None:
    german_unity = datetime(2025, 10, 3, 9, 0, tzinfo=UTC)  # a holiday in Germany only
    engine, clock = _engine(tmp_path, german_unity, _curves())
    assert engine._market_open(frozenset({"FR"}), clock.now())
    assert not engine._market_open(frozenset({"DE"}), clock.now())


def test_a_curve_going_stale_is_killed_at_the_instant_it_passes_the_limit(tmp_path: Path) -> None:
    curves = _curves()
    allowed = [s for (_, a), s in curves.current.items() if a in DEMO_RISK.allowed_areas]
    oldest = min(allowed, key=lambda s: s.as_of)
    stale_at = oldest.as_of + timedelta(seconds=DEMO_RISK.max_curve_age_s)
    engine, clock = _engine(tmp_path, stale_at - timedelta(hours=2), curves)
    killswitch = engine.deps.killswitch
    for at in (stale_at - timedelta(hours=1), stale_at - MS, stale_at):
        clock.advance((at - clock.now()).total_seconds())
        engine._kill_stale_curves(clock.now(), curves.current)
        assert not killswitch.kills, at  # at the limit is not yet older than it
    clock.advance(0.001)
    engine._kill_stale_curves(clock.now(), curves.current)
    assert killswitch.covers_area(oldest.market_area)
    assert killswitch.kills[0].reason.startswith(
        f"curve stale: {oldest.commodity}/{oldest.market_area}"
    )


def test_a_nap_ends_at_its_time_or_at_a_wake_and_a_wake_while_polling_shortens_the_next(
    tmp_path: Path,
) -> None:
    engine, clock = _engine(tmp_path, CLOSE - timedelta(hours=1), _curves())

    async def settle() -> None:  # the nap's sleeper on the clock, its wake-ups run
        for _ in range(5):
            await asyncio.sleep(0)

    async def check() -> None:
        nap = asyncio.ensure_future(engine._nap(10.0))
        await settle()
        clock.advance(9.999)
        await settle()
        assert not nap.done()
        clock.advance(0.001)
        await settle()
        assert nap.done()  # on time, on the engine's clock
        nap = asyncio.ensure_future(engine._nap(10.0))
        await settle()
        engine.wake()  # a kill, a resume, a swap: poll now
        await settle()
        assert nap.done()
        engine.wake()  # while polling: the next nap is over at once
        nap = asyncio.ensure_future(engine._nap(10.0))
        await settle()
        assert nap.done()
        nap = asyncio.ensure_future(engine._nap(10.0))  # and only that one
        await settle()
        assert not nap.done()
        nap.cancel()

    before = clock.monotonic()
    asyncio.run(check())
    assert clock.monotonic() - before == 10.0


def test_a_nap_is_the_loops_own_sleep_and_a_wake_never_swallows_a_real_cancel(
    tmp_path: Path,
) -> None:
    engine, clock = _engine(tmp_path, CLOSE - timedelta(hours=1), _curves())

    async def check() -> None:
        nap = asyncio.ensure_future(engine._nap(10.0))
        await asyncio.sleep(0)
        # One sleeper on the clock and no task beside the napping one: a poll costs no task.
        assert asyncio.all_tasks() == {asyncio.current_task(), nap}
        assert clock.next_wake_s() == clock.monotonic() + 10.0
        engine.wake()
        nap.cancel()  # the task group ending while a wake is on its way: it still ends
        await asyncio.sleep(0)
        assert nap.cancelled()
        nap = asyncio.ensure_future(engine._nap(10.0))
        await asyncio.sleep(0)
        nap.cancel()
        engine.wake()  # and the other way round
        await asyncio.sleep(0)
        assert nap.cancelled()
        nap = asyncio.ensure_future(engine._nap(10.0))
        await asyncio.sleep(0)
        engine.wake()
        await asyncio.sleep(0)
        assert nap.done()
        assert not nap.cancelled()  # a wake alone ends the nap, not the loop
        assert nap.cancelling() == 0  # the wake's cancel taken back

    asyncio.run(check())
