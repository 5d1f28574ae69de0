"""The simulated venue answers the port as the contract says, whatever the replay did."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import Replayed, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.simmarket import SimMarket
from quoter.backtest.simvenue import SimVenue, memory_guard
from quoter.clock import ManualClock
from quoter.domain import Price, QuoteRequest, QuoteType, Trade
from quoter.venue import errors
from quoter.venue.config import UsagePlanConfig
from tests.backtest.helpers import run, settings, short_tape, tape_of


def _window(trades: list[Trade], low: datetime | None, high: datetime | None) -> list[Trade]:
    """The contract's answer by brute force: trades in [low, high), newest first."""
    kept = [
        t
        for t in trades
        if (low is None or t.traded_at >= low) and (high is None or t.traded_at < high)
    ]
    return sorted(kept, key=lambda t: t.traded_at, reverse=True)


def test_list_trades_pages_any_window_newest_first(tmp_path: Path) -> None:
    venue = run(tape_of(short_tape(30)), AuctionFill(), tmp_path).venue
    trades = venue.market.trades
    assert len(trades) > 20
    first, last = trades[0].traded_at, trades[-1].traded_at
    middle = trades[len(trades) // 2].traded_at
    windows: list[tuple[datetime | None, datetime | None]] = [
        (None, None),
        (middle, None),
        (None, middle),
        (first + timedelta(milliseconds=1), last),
        (last + timedelta(seconds=1), None),
    ]

    async def check() -> None:
        for low, high in windows:
            expected = _window(trades, low, high)
            for limit, skip in ((100, 0), (7, 0), (7, 7), (5, max(0, len(expected) - 3)), (5, 999)):
                page = await venue.list_trades(
                    traded_from=low, traded_to=high, limit=limit, skip=skip
                )
                assert page.total == len(expected)
                assert [t.id for t in page.items] == [t.id for t in expected[skip : skip + limit]]

    asyncio.run(check())


def _open_venue() -> tuple[SimVenue, str, datetime, datetime]:
    tape = tape_of(short_tape(30))
    entry = next(t for t in tape if t.rfq.quote_type is QuoteType.ONE_WAY)
    clock = ManualClock(entry.rfq.created_at)
    market = SimMarket(tape, clock, AuctionFill())
    venue = SimVenue(market, memory_guard(UsagePlanConfig(), clock))
    return venue, entry.id, clock.now(), entry.rfq.quote_deadline


def _price(value: float) -> Price:
    return Price(value, "EUR")


@pytest.mark.parametrize(
    ("two_way", "valid_s", "message"),
    [
        (True, 10, "a one-way RFQ takes a price"),
        (False, 0, "not in the future"),
        (False, 10**7, "after the quote deadline"),
    ],
)
def test_a_quote_breaking_the_contract_is_refused_as_the_venue_would(
    two_way: bool, valid_s: int, message: str
) -> None:
    venue, rfq_id, now, _ = _open_venue()
    until = now + timedelta(seconds=valid_s)
    if two_way:
        request = QuoteRequest(rfq_id, "c-1", until, bid=_price(49.0), ask=_price(51.0))
    else:
        request = QuoteRequest(rfq_id, "c-1", until, price=_price(50.0))
    with pytest.raises(errors.QuoteRejected, match=message) as refused:
        asyncio.run(venue.submit_quote(request))
    assert refused.value.status == 422
    assert not venue.market.quotes


def test_a_good_quote_is_stored_once_and_a_retry_returns_it() -> None:
    venue, rfq_id, _, deadline = _open_venue()
    request = QuoteRequest(rfq_id, "c-1", deadline, price=_price(50.1239))

    async def twice() -> None:
        first = await venue.submit_quote(request)
        again = await venue.submit_quote(request)
        assert again == first
        assert first.price == _price(50.124)  # what the client sends: 3 decimals

    asyncio.run(twice())
    assert len(venue.market.quotes) == 1


@pytest.mark.parametrize(
    ("daily_quota", "kept_ended"),
    [
        (100_000, 40),  # roomy: the engine polls every second, as it would live
        (5_000, 3),  # the default plan polls slowly: reads reach back past the kept log
    ],
)
def test_forgetting_ended_rfqs_changes_nothing_the_engine_sees(
    tmp_path: Path, daily_quota: int, kept_ended: int
) -> None:
    tape = tape_of(short_tape(60, per_min=6.0))
    plan = replace(settings(tmp_path), usage_plan=UsagePlanConfig(daily_quota=daily_quota))

    def replayed(kept: int) -> Replayed:
        curves = DailyCurves(None, tape.start.date())
        chosen = replace(plan, kept_ended=kept)
        return replay(tape, RunSpec("t"), AuctionFill(), chosen, curves)

    small, whole = replayed(kept_ended), replayed(10**6)
    assert len(tape) > 200
    assert len(small.venue.market.rfqs) < len(tape) // 4  # it did forget
    assert small.audit.decisions == whole.audit.decisions
    assert small.venue.market.trades == whole.venue.market.trades


def test_a_read_from_before_the_kept_log_is_answered_from_the_stored_rfqs(
    tmp_path: Path,
) -> None:
    tape = tape_of(short_tape(60, per_min=6.0))
    venue = replay(
        tape,
        RunSpec("t"),
        AuctionFill(),
        replace(settings(tmp_path), kept_ended=3),
        DailyCurves(None, tape.start.date()),
    ).venue
    floor = venue.market.log.floor  # the boundary under test
    assert floor is not None
    for since in (tape.start, floor - timedelta(milliseconds=1), floor):
        page = asyncio.run(venue.list_rfqs(updated_since=since, limit=10_000))
        stored = {r.id for r in venue.market.rfqs.values() if r.updated_at >= since}
        assert stored  # the read has something to find
        assert {r.id for r in page.items} == stored
