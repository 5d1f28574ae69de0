"""`build_quote` as a strategy's bug meets it: a sign error that would quote through mid is a
fault (strategy-error, counted towards the fault-rate kill), and a NaN or infinite number built
into a quote is strategy-nan, not a price out of range that looks like the market's doing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from quoter.domain import QuoteType, Rfq
from quoter.pricing.reasons import STRATEGY_FAULTS
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    QuoteDecision,
    ReasonCode,
    build_quote,
    evaluate,
)
from tests.strategies.factories import AS_OF, period_rfq, snapshot

MAY = (date(2026, 5, 1), date(2026, 6, 1))
FACTS = (744.0, 7440.0, "curve-id", AS_OF)


@dataclass(frozen=True)
class Builds:
    """A strategy that builds its quote with `build_quote` from the mid and half-widths given."""

    mid: float
    half_widths: dict[str, float]

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        return build_quote(rfq.our_side, self.mid, self.half_widths, FACTS)


def _evaluated(strategy: Builds, *, two_way: bool = False) -> Decision:
    rfq = period_rfq(*MAY, quote_type=QuoteType.TWO_WAY) if two_way else period_rfq(*MAY)
    return evaluate(strategy, rfq, snapshot())


@pytest.mark.parametrize("two_way", [False, True])
def test_a_negative_half_spread_is_a_strategy_fault_not_a_quote_through_mid(two_way: bool) -> None:
    decision = _evaluated(Builds(88.37, {"half-spread": -5.0}), two_way=two_way)
    assert isinstance(decision, Decline), decision
    assert decision.reason is ReasonCode.STRATEGY_ERROR
    assert "through" in decision.detail
    assert decision.reason in STRATEGY_FAULTS  # counted: a strategy that keeps it up is killed


def test_a_discount_within_a_positive_width_still_quotes() -> None:
    decision = _evaluated(Builds(88.37, {"half-spread": 0.4, "credit": -0.1}))
    assert isinstance(decision, QuoteDecision), decision
    assert decision.price == pytest.approx(88.67)  # we sell (period_rfq's requester buys)


@pytest.mark.parametrize(
    ("mid", "half_widths"),
    [
        (float("nan"), {"half-spread": 0.5}),
        (88.37, {"half-spread": float("nan")}),
        (float("inf"), {"half-spread": 0.5}),
        (88.37, {"half-spread": float("inf")}),
    ],
)
@pytest.mark.parametrize("two_way", [False, True])
def test_a_non_finite_number_built_into_a_quote_is_strategy_nan(
    mid: float, half_widths: dict[str, float], two_way: bool
) -> None:
    decision = _evaluated(Builds(mid, half_widths), two_way=two_way)
    assert isinstance(decision, Decline), decision
    assert decision.reason is ReasonCode.STRATEGY_NAN
    assert decision.reason in STRATEGY_FAULTS


def test_a_finite_price_beyond_the_venues_range_is_still_out_of_range() -> None:
    decision = _evaluated(Builds(4100.0, {"half-spread": 0.5}))
    assert isinstance(decision, Decline), decision
    assert decision.reason is ReasonCode.PRICE_OUT_OF_RANGE
