"""Credit through the engine: a fill uses its counterparty's credit until its month of delivery
has been paid for (the 20th of the month after), and the credit it frees is quoted against
again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import Replayed, ReplaySettings, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.tape import Tape
from quoter.risk.config import DEMO_RISK
from quoter.venue.config import UsagePlanConfig
from tests.backtest.helpers import settings, synthetic_day, tape_of

MONDAY = date(2026, 3, 30)  # RFQs for delivery on Tuesday 31 March
PAID = date(2026, 4, 20)  # March's deliveries are paid for


def _day_rfqs(start: date, seed: int) -> pd.DataFrame:
    """The first day's one-way DE base day RFQs from `start` (another seed, other RFQ ids)."""
    frame = synthetic_day(start, per_min=2.0, seed=seed)
    return frame[
        (frame.product_type == "day")
        & (frame.market_area == "DE")
        & (frame.load == "base")
        & (frame.quote_type == "one-way")
    ]


def _tape(later: date) -> Tape:
    """Two RFQs on Monday 30 March for delivery in March, and one on `later`, of one company
    and one size, with no competitor (so every quote wins)."""
    chosen = pd.concat([_day_rfqs(MONDAY, 7).head(2), _day_rfqs(later, 8).head(1)])
    chosen = chosen.reset_index(drop=True)
    chosen["quantity_mw"] = 10.0
    chosen["competitor_price"] = chosen["requester_limit"] = float("nan")
    chosen["cancel_at"] = pd.NaT
    chosen["requester_id"] = chosen.requester_id[0]
    chosen["requester_name"] = chosen.requester_name[0]
    return tape_of(chosen)


def _replay(tape: Tape, tmp_path: Path, credit_eur: float) -> Replayed:
    risk = DEMO_RISK.model_copy(update={"credit_limit_eur": credit_eur})
    # A small day's quota: polling every half minute or so, not every few seconds, over the
    # seven weeks the replay spans.
    plan = UsagePlanConfig(daily_quota=1000, withdraw_reserve_daily=50, submit_reserve_daily=100)
    chosen = ReplaySettings(settings(tmp_path).engine, risk, plan)
    curves = DailyCurves(None, tape.start.date())
    return replay(tape, RunSpec("credit"), AuctionFill(), chosen, curves)


def _actions(done: Replayed) -> list[tuple[str, str | None]]:
    return [(d.action, d.reason) for d in done.audit.decisions]


def test_credit_freed_by_a_paid_delivery_month_is_quoted_against_again(tmp_path: Path) -> None:
    before, after = _tape(date(2026, 4, 17)), _tape(date(2026, 4, 21))
    for tape in (before, after):
        assert len(tape) == 3
        assert all(t.rfq.instrument.end.month == 3 for t in list(tape)[:2])  # March deliveries
    # A fill is priced near the curve mid (the collar keeps it within 15 EUR/MWh of it).
    one_fill = max((t.reference_price or 0.0) + 15.0 for t in after) * 10.0 * 24
    limit = 1.5 * one_fill  # one fill fits, a second beside it does not

    unpaid = _replay(before, tmp_path / "unpaid", limit)
    paid = _replay(after, tmp_path / "paid", limit)

    declined = ("decline", "credit-limit")
    assert _actions(unpaid) == [("quote", None), declined, declined]
    assert _actions(paid) == [("quote", None), declined, ("quote", None)]
    assert paid.audit.decisions[2].at.date() > PAID
    assert len(paid.venue.market.trades) == 2  # every quote won
