"""inventory_skew: leans a wrapped strategy's prices against the desk's position."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain import Action, Commodity, QuoteType
from quoter.strategies_api import Decline, DeliveryBucket, QuoteDecision, ReasonCode, load_strategy
from strategies.curve_spread import CurveSpread
from strategies.inventory_skew import InventorySkew
from tests.strategies.factories import period_rfq, snapshot

SPREAD = CurveSpread()
SKEW = InventorySkew(inner=SPREAD, k_eur_mwh_per_mwh=0.001, cap_eur_mwh=1.5)
MAY = (date(2026, 5, 1), date(2026, 6, 1))


def bucket(month: str) -> DeliveryBucket:
    return DeliveryBucket(Commodity.POWER, "DE", month)


def _quote(strategy: Any, rfq: Any, **market: Any) -> QuoteDecision:
    decision = strategy.price(rfq, snapshot(**market))
    assert isinstance(decision, QuoteDecision), decision
    return decision


def test_without_positions_the_skew_is_zero() -> None:
    rfq = period_rfq(*MAY)
    inner, outer = _quote(SPREAD, rfq), _quote(SKEW, rfq)
    assert outer.price == inner.price
    assert list(outer.components) == ["mid", "half-spread", "credit", "skew"]
    assert outer.components["skew"] == 0.0


@pytest.mark.parametrize("quote_type", [QuoteType.ONE_WAY, QuoteType.TWO_WAY])
def test_a_long_desk_lowers_its_prices(quote_type: QuoteType) -> None:
    rfq = period_rfq(*MAY, quote_type=quote_type)
    inner = _quote(SPREAD, rfq)
    outer = _quote(SKEW, rfq, positions_mwh={bucket("2026-05"): 500.0})
    assert outer.components["skew"] == -0.5
    for before, after in zip(inner.prices(), outer.prices(), strict=True):
        assert after == round(before - 0.5, 3)


def test_a_short_desk_raises_them_up_to_the_cap() -> None:
    rfq = period_rfq(*MAY, action=Action.SELL)
    outer = _quote(SKEW, rfq, positions_mwh={bucket("2026-05"): -10_000.0})
    assert outer.components["skew"] == 1.5


def test_exposure_is_weighted_by_the_delivery_energy_per_bucket() -> None:
    rfq = period_rfq(date(2026, 5, 1), date(2026, 7, 1))  # 744 h in May, 720 h in June
    positions = {bucket("2026-06"): 1464.0, bucket("2026-08"): 99_999.0}
    outer = _quote(SKEW, rfq, positions_mwh=positions)
    assert outer.components["skew"] == round(-0.001 * 1464.0 * 720 / 1464, 3)


def test_inner_declines_pass_through() -> None:
    decision = SKEW.price(
        period_rfq(*MAY, area="NL"), snapshot(positions_mwh={bucket("2026-05"): 1.0})
    )
    assert isinstance(decision, Decline)
    assert decision.reason is ReasonCode.NO_CURVE


def test_loads_with_its_inner_strategy_by_name_or_with_params() -> None:
    by_name = load_strategy("inventory_skew", {"inner": "curve_spread", "k_eur_mwh_per_mwh": 0.01})
    assert isinstance(by_name, InventorySkew)
    assert isinstance(by_name.inner, CurveSpread)
    nested = load_strategy(
        "inventory-skew",
        {"inner": {"name": "curve_spread", "params": {"credit_default_eur_mwh": 0.5}}},
    )
    assert isinstance(nested, InventorySkew)
    assert nested.inner == CurveSpread(credit_default_eur_mwh=0.5)


@settings(max_examples=50, deadline=None)
@given(position=st.floats(-1e6, 1e6), k=st.floats(0, 0.01), cap=st.floats(0, 5))
def test_skew_leans_against_the_position_within_the_cap(
    position: float, k: float, cap: float
) -> None:
    strategy = InventorySkew(inner=SPREAD, k_eur_mwh_per_mwh=k, cap_eur_mwh=cap)
    rfq = period_rfq(*MAY, quote_type=QuoteType.TWO_WAY)
    skew = _quote(strategy, rfq, positions_mwh={bucket("2026-05"): position}).components["skew"]
    assert abs(skew) <= round(cap, 3) + 1e-9
    assert skew * position <= 0
