"""The engine's behaviour on a SimVenue and virtual time: kills (whole, scoped, by strategy
faults, a stale curve's area kill), reading every open RFQ at a start, too-late declines, the
refresh of a quote about to run out, the close of trading's sweep; and how long a stop keeps
withdrawing when the venue refuses (measured on the virtual clock, exactly). Moved from
test_engine_e2e.py and test_venue_truth.py; what they promise of the venue is still checked
over a real socket: a kill withdrawing every quote and what follows it in
test_engine_e2e.py::test_quoter_kill_and_resume_reach_a_running_bot, test_venue_truth.py and
test_auto_kills.py (a killed decline, nothing sent); paging over HTTP in
test_engine_e2e.py::test_rfqs_read_by_a_poll_that_then_fails_are_still_priced; declines (no
quote reaching the venue) in test_curve_safety.py; a requote superseding the live quote in
test_engine_e2e.py::test_a_curve_move_requotes_live_quotes_once; a sweep withdrawing what only
the venue lists in test_venue_truth.py's kill test."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from quoter.backtest.simvenue import SimVenue
from quoter.basics.usage import Lane
from quoter.clock import ManualClock
from quoter.domain import Commodity, Price, QuoteRequest, QuoteStatus, Rfq
from quoter.engine.curve_watch import CurveStore
from quoter.engine.killswitch import Kill, KillSwitch, Scope, TradingState
from quoter.engine.quotes import QuoteState
from quoter.engine.state import StrategySlot
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.valuation import value_instrument
from quoter.risk.config import DEMO_RISK
from quoter.strategies_api import Decision, Decline, DeclineCode, MarketSnapshot, build_quote
from quoter.venue import errors
from tests.conftest import SANDBOX_START
from tests.engine.harness import CURVES, audit_records, eventually
from tests.engine.sim import (
    APRIL,
    Broken,
    SimRunning,
    arriving,
    sim_config,
    sim_engine,
    sim_venue,
    virtual,
)
from tests.virtual_time import run_on_virtual_time


@virtual
async def test_a_kill_withdraws_everything_and_nothing_is_quoted_after(tmp_path: Path) -> None:
    rfqs = [arriving(n) for n in range(5)] + [arriving(5, at_s=60)]
    async with sim_engine(tmp_path, sim_venue(rfqs)) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 5, "five quotes")
        assert bot.live_quotes() == 5
        bot.engine.kill(Kill(reason="desk says stop", by="test", at=bot.deps.clock.now()))
        await eventually(lambda: bot.desk.stats.withdrawn == 5, "five withdrawals")
        assert bot.live_quotes() == 0
        await eventually(lambda: bot.desk.stats.declined["killed"] == 1, "a killed decline", 120)
        assert bot.desk.stats.quotes_sent == 5
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.HALTED


@virtual
async def test_a_start_reads_every_open_rfq_however_many_pages_they_take(tmp_path: Path) -> None:
    # Each its own instant, well apart, all open before the start.
    rfqs = [arriving(n, at_s=-40 + 5 * n) for n in range(7)]
    # Pages of 2, at most 2 a poll: the 7 open RFQs take 4 pages, listed newest first.
    config = sim_config(tmp_path, page_limit=2, max_pages_per_poll=2)
    async with sim_engine(tmp_path, sim_venue(rfqs), config=config) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 7, "a quote on each")
        seen = {r["rfq"]["id"] for r in audit_records(tmp_path, "rfq")}
    assert seen == {r.id for r in rfqs}
    assert not audit_records(tmp_path, "start-cut-short")


@virtual
async def test_a_start_that_cannot_read_every_open_rfq_says_so(tmp_path: Path) -> None:
    rfqs = [arriving(n, at_s=-10 + n) for n in range(3)]
    config = sim_config(tmp_path, page_limit=2, max_pages_at_start=1)
    async with sim_engine(tmp_path, sim_venue(rfqs), config=config):
        await eventually(lambda: bool(audit_records(tmp_path, "start-cut-short")), "the cut")
    assert audit_records(tmp_path, "start-cut-short")[0]["read"] == 2


@virtual
async def test_a_scoped_kill_leaves_other_areas_quoting(tmp_path: Path) -> None:
    rfqs = [arriving(0, instrument=replace(APRIL, market_area="FR")), arriving(1)]
    async with sim_engine(tmp_path, sim_venue(rfqs)) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "two quotes")
        scope = Scope(areas=frozenset({"FR"}))
        bot.engine.kill(Kill(reason="FR desk", by="test", at=bot.deps.clock.now(), scope=scope))
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the FR quote withdrawn")
        assert bot.live_quotes() == 1


@virtual
async def test_too_late_rfqs_are_declined_not_quoted(tmp_path: Path) -> None:
    async with sim_engine(tmp_path, sim_venue([arriving(0, deadline_s=1)])) as bot:
        await eventually(lambda: bot.desk.stats.declined["too-late"] == 1, "too-late decline")
        assert bot.desk.stats.quotes_sent == 0


@virtual
async def test_a_faulty_strategy_declines_and_its_fault_rate_kills(tmp_path: Path) -> None:
    rfqs = [arriving(n) for n in range(12)]
    async with sim_engine(tmp_path, sim_venue(rfqs), strategy=Broken()) as bot:
        await eventually(lambda: bot.desk.stats.declined["strategy-error"] >= 10, "declines")
        await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "a kill")
        assert bot.desk.stats.quotes_sent == 0
        assert not bot.venue.market.quotes  # none ever reached the venue
        kills = [k.reason for k in bot.deps.killswitch.kills]
    assert kills == ["strategy fault rate 100%"]
    declines = audit_records(tmp_path, "decline")
    assert any("division by zero" in r["detail"] for r in declines)


@virtual
async def test_a_quote_about_to_run_out_is_refreshed(tmp_path: Path) -> None:
    config = sim_config(tmp_path, validity_s=20.0, refresh_margin_s=10.0)
    async with sim_engine(tmp_path, sim_venue([arriving(0)]), config=config) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        assert bot.desk.stats.requotes_sent == 0
        quoted_at = bot.deps.clock.monotonic()
        await eventually(lambda: bot.desk.stats.requotes_sent == 1, "the refresh", 30)
        assert bot.deps.clock.monotonic() - quoted_at >= 10.0 - 1.0  # not before the margin
        assert bot.live_quotes() == 1
        # The latencies are the first answer's: a refresh 10 s on is not a 10 s answer.
        stats = bot.desk.stats
        assert len(stats.seen_to_sent_s) == len(stats.created_to_ack_s) == 1
        assert max(stats.seen_to_sent_s) < 5.0


@virtual
async def test_a_stale_curve_kills_its_area_only(tmp_path: Path) -> None:
    de = CURVES[(Commodity.POWER, "DE")]
    old = CurveSeries(
        de.commodity,
        "DE",
        de.start_s,
        de.step_s,
        de.prices,
        SANDBOX_START - timedelta(days=3),
        de.source,
    )
    curves = CurveStore(None, initial=CurveSet({**CURVES.series, old.key: old}))
    async with sim_engine(tmp_path, sim_venue([arriving(0)]), curves=curves) as bot:
        await eventually(lambda: bot.deps.killswitch.covers_area("DE"), "the DE kill")
        assert not bot.deps.killswitch.covers_area("FR")
        assert bot.deps.killswitch.state is TradingState.ACTIVE
        assert "curve stale: power/DE" in bot.deps.killswitch.kills[0].reason


class RefusingWithdrawals(SimVenue):
    """The simulated venue with its withdrawals down: every one answers 503."""

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        await self.guard.acquire(Lane.WITHDRAW)
        raise errors.VenueUnavailable("withdraw_quote: 503", status=503)


@virtual
@pytest.mark.parametrize("timeout_s", [2.0, 5.0])
async def test_a_stop_keeps_withdrawing_for_its_configured_window_then_gives_up(
    tmp_path: Path, timeout_s: float
) -> None:
    simulated = sim_venue([arriving(0)])
    venue = RefusingWithdrawals(simulated.market, simulated.guard)
    config = sim_config(tmp_path, kill={"stop_withdraw_timeout_s": timeout_s})
    async with sim_engine(tmp_path, venue, config=config) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        stopped_at = bot.deps.clock.monotonic()
    gave_up_after_s = bot.deps.clock.monotonic() - stopped_at
    assert timeout_s - 1e-9 <= gave_up_after_s < timeout_s + 1.0
    assert bot.live_quotes() == 1  # it could not withdraw it, and said so; it did not hang


CLOSING = SANDBOX_START + timedelta(hours=7, minutes=50)  # 16:50 UTC, 17:50 in Berlin: open


def test_the_close_of_trading_sweeps_what_the_venue_lists_though_the_book_is_empty(
    tmp_path: Path,
) -> None:
    """From ten minutes before the close (a day of 1 s polls before it is no part of this):
    an RFQ the bot declines (no AT curve), quoted by another client on our key, is withdrawn
    by the close's sweep while the quote is still valid."""

    async def scenario(clock: ManualClock) -> None:
        at_s = (CLOSING - SANDBOX_START).total_seconds() + 1
        rfq = arriving(0, at_s, instrument=replace(APRIL, market_area="AT"), deadline_s=40 * 60)
        venue = sim_venue([rfq])
        async with sim_engine(tmp_path, venue) as bot:
            await eventually(lambda: bot.desk.stats.declined["no-curve"] == 1, "AT declined")
            another = QuoteRequest(
                rfq_id=rfq.rfq.id,
                client_quote_id="another-client",
                valid_until=clock.now() + timedelta(minutes=15),
                price=Price(80.0),
            )
            await venue.submit_quote(another)
            await clock.sleep(11 * 60)  # 18:01 in Berlin: closed, the quote still valid
            await eventually(lambda: bot.desk.stats.orphans_withdrawn == 1, "swept at the close")
            assert bot.live_quotes() == 0
            assert bot.desk.stats.quotes_sent == 0

    run_on_virtual_time(scenario, CLOSING)
    passes = audit_records(tmp_path, "withdrawal-pass")
    assert any(r["why"] == "market closed" for r in passes)


@virtual
async def test_a_kill_racing_the_quotes_win_still_books_the_fill(tmp_path: Path) -> None:
    # The kill's withdrawal reaches the venue a millisecond after the RFQ traded on our quote:
    # the venue answers that the quote is no longer active. The quote is not forgotten: the
    # next poll sees the RFQ won and books the fill, so the position the limits see is right.
    rfq = arriving(0, deadline_s=10.3)
    async with sim_engine(tmp_path, sim_venue([rfq])) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote")
        clock = bot.deps.clock
        await clock.sleep((rfq.rfq.quote_deadline - clock.now()).total_seconds() + 0.001)
        assert bot.desk.stats.won == 0  # the engine has not seen the end yet
        bot.engine.kill(Kill(reason="race", by="test", at=clock.now()))
        await eventually(lambda: bot.desk.stats.won == 1, "the fill booked")
        assert len(bot.desk.quotes) == 0
        assert any(mwh < 0 for mwh in bot.desk.book.positions_mwh.values())  # we sold
    withdrawals = audit_records(tmp_path, "withdrawal")
    assert [(w["rfq-id"], w["result"]) for w in withdrawals] == [(rfq.id, "not-active")]
    assert bot.desk.stats.withdrawn == 0
    [filled] = audit_records(tmp_path, "fill")
    assert filled["rfq-id"] == rfq.id


@virtual
@pytest.mark.parametrize("bot_tried", [False, True])
async def test_a_quote_withdrawn_outside_the_bot_frees_its_limits(
    tmp_path: Path, bot_tried: bool
) -> None:
    # Withdrawn at the venue while the RFQ stays open (`quoter kill` while the bot hung, a
    # person at the venue): the listing says so, and the quote no longer counts against the
    # open-quotes limit. With one open quote allowed, the next RFQ is quoted. `bot_tried`: the
    # bot's own withdrawal came after and was answered not-active.
    risk = DEMO_RISK.model_copy(update={"max_open_quotes": 1})
    first, second = arriving(0, deadline_s=600), arriving(1, at_s=30, deadline_s=600)
    venue = sim_venue([first, second])
    async with sim_engine(tmp_path, venue, risk=risk) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the first quote")
        clock = bot.deps.clock
        [mine] = list(bot.desk.quotes)
        assert mine.quote_id is not None
        venue.market.withdraw(first.id, mine.quote_id, clock.now())  # not by the bot
        if bot_tried:
            with pytest.raises(errors.QuoteNotActive):
                await venue.withdraw_quote(first.id, mine.quote_id)
            bot.desk.quotes.mark(first.id, QuoteState.WITHDRAWING)  # as a failed pass leaves it
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "the second RFQ quoted", 60)
        assert bot.desk.stats.declined["max-open-quotes"] == 0
        assert [q.rfq.id for q in bot.desk.quotes] == [second.id]
        assert bot.desk.stats.withdrawn == 1
        assert bot.live_quotes() == 1
    [gone] = [w for w in audit_records(tmp_path, "withdrawal") if w["rfq-id"] == first.id]
    assert gone["result"] == "withdrawn at the venue"


@dataclass(frozen=True)
class OverCurve:
    """Sells `over` EUR/MWh above the curve (within the demo collar of 15)."""

    over: float = 10.0

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        valued = value_instrument(rfq.instrument, market.shape, market.curves)
        if isinstance(valued, Decline):
            return valued
        facts = (valued.hours, rfq.quantity_mw * valued.hours, market.curves.id, valued.curve_as_of)
        return build_quote(rfq.our_side, valued.mid_eur_mwh, {"over": self.over}, facts)


@dataclass(frozen=True)
class DeclinesAll:
    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        return Decline(DeclineCode.NO_CURVE, "this strategy quotes nothing")


def _venue_price(bot: SimRunning) -> float | None:
    [active] = [q for q in bot.venue.market.quotes.values() if q.status is QuoteStatus.ACTIVE]
    return None if active.price is None else active.price.value


@virtual
async def test_a_swap_reprices_the_live_quotes_with_the_new_strategy(tmp_path: Path) -> None:
    # The old strategy's price does not stand until it runs out: the new one requotes it.
    rfq = arriving(0, deadline_s=1800)
    async with sim_engine(tmp_path, sim_venue([rfq]), strategy=OverCurve(10.0)) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the first quote")
        first = _venue_price(bot)
        assert first is not None
        bot.engine.swap(StrategySlot("over-1", OverCurve(1.0)), by="test", source="test")
        await eventually(lambda: bot.desk.stats.requotes_sent == 1, "requoted by the new one", 10)
        assert bot.live_quotes() == 1
        assert _venue_price(bot) == pytest.approx(first - 9.0, abs=1e-3)


@virtual
async def test_a_live_quote_the_bot_would_no_longer_send_is_withdrawn(tmp_path: Path) -> None:
    # Swapped to a strategy that declines it: withdrawn at once, not left live at the old price.
    rfq = arriving(0, deadline_s=1800)
    async with sim_engine(tmp_path, sim_venue([rfq]), strategy=OverCurve(10.0)) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the first quote")
        bot.engine.swap(StrategySlot("declines", DeclinesAll()), by="test", source="test")
        await eventually(lambda: bot.live_quotes() == 0, "withdrawn", 10)
        assert bot.desk.stats.withdrawn == 1
        assert len(bot.desk.quotes) == 0
    [gone] = audit_records(tmp_path, "withdrawal")
    assert (gone["why"], gone["result"]) == ("no longer quoted: no-curve", "withdrawn")


class MovingCurves:
    """Curves a test moves: every power/DE price shifted by `shift` EUR/MWh."""

    def __init__(self) -> None:
        self.current = CURVES

    def shift(self, by: float) -> None:
        de = CURVES[(Commodity.POWER, "DE")]
        moved = replace(de, prices=de.prices + by)
        self.current = CurveSet({**CURVES.series, moved.key: moved})


@virtual
async def test_a_live_quote_the_curve_moved_past_the_drift_is_withdrawn(tmp_path: Path) -> None:
    # The curve jumps 12 EUR/MWh (the demo drift allows 10 within 5 minutes): the requote is
    # refused, and the quote priced on the old curve, now 12 from mid, is withdrawn.
    curves = MovingCurves()
    rfq = arriving(0, deadline_s=1800)
    async with sim_engine(tmp_path, sim_venue([rfq]), curves=curves) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the first quote")
        curves.shift(-12.0)
        await eventually(lambda: bot.live_quotes() == 0, "withdrawn", 10)
        assert bot.desk.stats.declined["drift"] == 1
    [gone] = audit_records(tmp_path, "withdrawal")
    assert gone["why"] == "no longer quoted: drift"


@virtual
async def test_a_stop_after_a_quote_ended_at_the_venue_is_a_clean_stop(tmp_path: Path) -> None:
    # The quote is withdrawn outside the bot just before the stop: its book still tracks it,
    # but the final sweep finds none of ours live, and the stop is clean (no "possibly live",
    # no dead-man's switch firing on it).
    async with sim_engine(tmp_path, sim_venue([arriving(0, deadline_s=1800)])) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        (quote,) = bot.venue.market.quotes.values()
        bot.venue.market.withdraw(quote.rfq_id, quote.id, bot.deps.clock.now())
    assert len(bot.desk.quotes) == 1  # still tracked: no poll saw the withdrawal
    assert bot.live_quotes() == 0
    assert bot.engine.left_live == 0


@virtual
async def test_a_stop_that_cannot_withdraw_says_the_quote_may_be_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(rfq_id: str, quote_id: str) -> None:
        raise errors.VenueUnavailable("503 from the venue", status=503)

    venue = sim_venue([arriving(0, deadline_s=1800)])
    async with sim_engine(tmp_path, venue) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        monkeypatch.setattr(venue, "withdraw_quote", refused)
    assert bot.live_quotes() == 1
    assert bot.engine.left_live == 1  # the fail-safe reading: not a clean stop


@dataclass
class SwappableCurves:
    """Curves a test replaces, as a new curve file would."""

    current: CurveSet


@virtual
async def test_an_rfq_declined_under_a_kill_is_priced_once_the_kill_is_lifted(
    tmp_path: Path,
) -> None:
    # Open for 30 minutes; killed when it arrives, resumed 2 minutes later: it is quoted then,
    # not left declined until its deadline.
    venue = sim_venue([arriving(0, at_s=5, deadline_s=1800)])
    async with sim_engine(tmp_path, venue) as bot:
        bot.engine.kill(Kill(reason="desk", by="test", at=bot.deps.clock.now()))
        await eventually(lambda: bot.desk.stats.declined["killed"] == 1, "declined, killed")
        await eventually(lambda: bot.deps.clock.monotonic() > 120, "two minutes", 200)
        assert bot.desk.stats.quotes_sent == 0
        assert bot.desk.stats.declined["killed"] == 1  # held, not declined again each poll
        bot.engine.resume("test")
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoted after the resume")
        assert bot.live_quotes() == 1
        assert max(bot.desk.stats.seen_to_sent_s) < 5.0  # from the resume, not from arrival
        assert not bot.desk.rfqs.held


@virtual
async def test_an_rfq_declined_for_want_of_a_curve_is_priced_once_the_curve_comes(
    tmp_path: Path,
) -> None:
    without_de = CurveSet(
        {key: s for key, s in CURVES.series.items() if key != (Commodity.POWER, "DE")}
    )
    curves = SwappableCurves(without_de)
    venue = sim_venue([arriving(0, at_s=5, deadline_s=1800)])
    async with sim_engine(tmp_path, venue, curves=curves) as bot:
        await eventually(lambda: bot.desk.stats.declined["no-curve"] == 1, "declined, no curve")
        await eventually(lambda: bot.deps.clock.monotonic() > 60, "a minute", 200)
        assert bot.desk.stats.declined["no-curve"] == 1
        curves.current = CURVES
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoted on the new curves")


@virtual
async def test_an_rfq_priced_again_after_a_hold_is_not_resent_each_poll_when_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held under a kill, resumed, priced again, and the venue refuses the quote: one submit,
    # not one every poll for as long as the RFQ is open (the hold is released as it is priced).
    venue = sim_venue([arriving(0, at_s=5, deadline_s=1800)])
    submits: list[str] = []

    async def refused(request: QuoteRequest) -> object:
        submits.append(request.client_quote_id)
        raise errors.QuoteRejected("submit_quote: 422 INVALID_QUOTE", status=422)

    async with sim_engine(tmp_path, venue) as bot:
        bot.engine.kill(Kill(reason="desk", by="test", at=bot.deps.clock.now()))
        await eventually(lambda: bot.desk.stats.declined["killed"] == 1, "declined, killed")
        monkeypatch.setattr(venue, "submit_quote", refused)
        bot.engine.resume("test")
        await eventually(lambda: len(submits) == 1, "priced again after the resume")
        started = bot.deps.clock.monotonic()
        await eventually(lambda: bot.deps.clock.monotonic() > started + 120, "two minutes", 200)
        assert len(submits) == 1
