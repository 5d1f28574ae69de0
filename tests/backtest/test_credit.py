"""Credit through the engine: a fill uses its counterparty's credit until its delivery has been
paid for, and the credit it frees is quoted against again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd

from quoter.app import DEMO_RISK
from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import Replayed, ReplaySettings, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.synth import synthetic_tape
from quoter.backtest.tape import Tape
from tests.backtest.helpers import settings, tape_of


def _day_ahead_tape() -> Tape:
    """Three one-way DE base day RFQs of one counterparty, of one size, with no competitor (so
    every quote wins): two on Monday, one on Wednesday, after Monday's delivery has ended."""
    frame = synthetic_tape(3, per_min=2.0, seed=7)
    rows = frame[
        (frame.product_type == "day")
        & (frame.market_area == "DE")
        & (frame.load == "base")
        & (frame.quote_type == "one-way")
    ]
    days = rows.created_at.dt.date
    chosen = pd.concat([rows[days == days.min()].head(2), rows[days == days.max()].head(1)])
    nothing = float("nan")
    chosen = chosen.assign(
        quantity_mw=10.0, competitor_price=nothing, requester_limit=nothing, cancel_at=pd.NaT
    )
    first = chosen.iloc[0]
    chosen = chosen.assign(requester_id=first.requester_id, requester_name=first.requester_name)
    return tape_of(chosen.reset_index(drop=True))


def _replay(tape: Tape, tmp_path: Path, credit_eur: float, settlement_days: float) -> Replayed:
    risk = DEMO_RISK.model_copy(
        update={"credit_limit_eur": credit_eur, "credit_settlement_days": settlement_days}
    )
    base = settings(tmp_path)
    chosen = ReplaySettings(base.engine, risk, base.usage_plan)
    curves = DailyCurves(None, tape.start.date())
    return asyncio.run(replay(tape, RunSpec("credit"), AuctionFill(), chosen, curves))


def _actions(done: Replayed) -> list[tuple[str, str | None]]:
    return [(d.action, d.reason) for d in done.audit.decisions]


def test_credit_freed_by_a_paid_delivery_is_quoted_against_again(tmp_path: Path) -> None:
    tape = _day_ahead_tape()
    first = tape.entry(0)
    assert tape.entry(2).rfq.created_at > first.rfq.instrument.end  # Monday's delivery is over
    roomy = _replay(tape, tmp_path / "roomy", 1e12, 20.0)
    assert _actions(roomy) == [("quote", None)] * 3
    assert len(roomy.venue.market.trades) == 3
    one_fill = max(t.price.value * t.quantity_mw * 24 for t in roomy.venue.market.trades)
    limit = 1.5 * one_fill  # one fill fits, a second beside it does not

    unpaid = _replay(tape, tmp_path / "unpaid", limit, 20.0)
    paid = _replay(tape, tmp_path / "paid", limit, 0.0)

    declined = ("decline", "credit-limit")
    assert _actions(unpaid) == [("quote", None), declined, declined]
    assert _actions(paid) == [("quote", None), declined, ("quote", None)]
