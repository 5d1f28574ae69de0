"""curve_spread: mid from the curve, half-spread by tenor, load and size, credit, sides."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain import Action, Commodity, Load, QuoteType
from quoter.pricing.delivery import Delivery, clear_caches, delivery_of
from quoter.pricing.valuation import clear_valuation_cache, price_delivery
from quoter.strategies_api import Decision, Decline, QuoteDecision, ReasonCode
from strategies.curve_spread import CurveSpread
from tests.strategies.factories import (
    AS_OF,
    make_curves,
    make_series,
    period_rfq,
    snapshot,
    wavy,
)

MAY = (date(2026, 5, 1), date(2026, 6, 1))
PLAIN = CurveSpread(
    tenor_half_spread_eur_mwh=((30, 0.1), (100, 0.2), (1000, 0.4)),
    size_add_on_eur_mwh=((20, 0.0), (100, 0.05)),
    credit_eur_mwh={"c-risky": 0.3},
    credit_default_eur_mwh=0.02,
)


def _mid(rfq: Any) -> float:
    delivery = delivery_of(rfq)
    assert isinstance(delivery, Delivery)
    mid = price_delivery(delivery, make_curves())
    assert isinstance(mid, float)
    return mid


def _quote(strategy: CurveSpread, rfq: Any, **market: Any) -> QuoteDecision:
    decision = strategy.price(rfq, snapshot(**market))
    assert isinstance(decision, QuoteDecision), decision
    return decision


def test_requester_buys_so_we_sell_above_mid() -> None:
    rfq = period_rfq(*MAY, action=Action.BUY)
    quote = _quote(PLAIN, rfq)
    mid = _mid(rfq)
    assert quote.side is Action.SELL
    assert quote.bid is None
    assert quote.ask is None
    assert quote.price == round(mid + 0.2 + 0.02, 3)  # 60 days ahead, 10 MW, default credit
    assert list(quote.components) == ["mid", "half-spread", "credit"]
    assert quote.components["mid"] == mid
    assert quote.delivery_hours == 744
    assert quote.energy_mwh == 7440
    assert quote.curve_id == make_curves().id
    assert quote.curve_as_of == AS_OF


def test_requester_sells_so_we_bid_below_mid() -> None:
    rfq = period_rfq(*MAY, action=Action.SELL, requester_id="c-risky")
    quote = _quote(PLAIN, rfq)
    assert quote.side is Action.BUY
    assert quote.price == round(_mid(rfq) - 0.2 - 0.3, 3)


def test_two_way_quotes_bid_and_ask_around_mid() -> None:
    rfq = period_rfq(*MAY, quote_type=QuoteType.TWO_WAY)
    quote = _quote(PLAIN, rfq)
    mid = _mid(rfq)
    assert quote.side is None
    assert quote.price is None
    assert quote.bid == round(mid - 0.22, 3)
    assert quote.ask == round(mid + 0.22, 3)


def test_a_zero_spread_two_way_quote_is_still_one_tick_wide() -> None:
    zero = CurveSpread(
        tenor_half_spread_eur_mwh=((1, 0.0),),
        size_add_on_eur_mwh=((1, 0.0),),
        credit_default_eur_mwh=0.0,
    )
    quote = _quote(zero, period_rfq(*MAY, quote_type=QuoteType.TWO_WAY))
    assert quote.bid is not None
    assert quote.ask is not None
    assert quote.ask == pytest.approx(quote.bid + 0.001)


def test_half_spread_grows_with_tenor_load_and_size() -> None:
    def half(rfq: Any) -> float:
        return _quote(PLAIN, rfq).components["half-spread"]

    assert half(period_rfq(date(2026, 3, 10), date(2026, 3, 11))) == 0.1
    assert half(period_rfq(*MAY)) == 0.2
    assert half(period_rfq(date(2027, 1, 1), date(2028, 1, 1))) == 0.4
    assert half(period_rfq(*MAY, Load.PEAK)) == pytest.approx(0.25)
    assert half(period_rfq(*MAY, quantity_mw=50.0)) == pytest.approx(0.25)
    assert half(period_rfq(*MAY, quantity_mw=5000.0)) == pytest.approx(0.25)  # last step beyond


def test_non_eur_rfq_is_declined() -> None:
    decision = PLAIN.price(period_rfq(*MAY, currency="USD"), snapshot())
    assert decision == Decline(ReasonCode.UNSUPPORTED_CURRENCY, "curves are in EUR, not USD")


def test_delivery_and_curve_declines_pass_through() -> None:
    no_curve = PLAIN.price(period_rfq(*MAY, area="NL"), snapshot())
    assert isinstance(no_curve, Decline)
    assert no_curve.reason is ReasonCode.NO_CURVE
    weekend_peak = PLAIN.price(
        period_rfq(date(2026, 5, 2), date(2026, 5, 4), Load.PEAK), snapshot()
    )
    assert isinstance(weekend_peak, Decline)
    assert weekend_peak.reason is ReasonCode.NO_DELIVERY_HOURS


def test_prices_outside_the_venue_range_are_declined() -> None:
    def expensive(t: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.full(t.size, 3999.9)

    curves = make_curves(make_series(prices=expensive))
    decision = PLAIN.price(period_rfq(*MAY), snapshot(curves))
    assert isinstance(decision, Decline)
    assert decision.reason is ReasonCode.PRICE_OUT_OF_RANGE


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tenor_half_spread_eur_mwh": ((30, 0.1), (10, 0.2))}, "strictly ascending"),
        ({"credit_default_eur_mwh": -1.0}, "greater than or equal to 0"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        CurveSpread(**params)


spreads = st.floats(0, 20, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(half=spreads, credit=spreads, quantity=st.floats(0.1, 1000), days_ahead=st.integers(0, 900))
def test_ask_is_never_below_bid(
    half: float, credit: float, quantity: float, days_ahead: int
) -> None:
    strategy = CurveSpread(tenor_half_spread_eur_mwh=((10, half),), credit_default_eur_mwh=credit)
    first = date(2026, 3, 3) + timedelta(days=days_ahead)
    last = first + timedelta(days=1)
    rfq = period_rfq(first, last, quote_type=QuoteType.TWO_WAY, quantity_mw=quantity)
    quote = _quote(strategy, rfq)
    assert quote.bid is not None
    assert quote.ask is not None
    assert quote.bid < quote.ask
    assert quote.bid <= quote.mid <= quote.ask or quote.ask - quote.bid == pytest.approx(0.001)


@settings(max_examples=60, deadline=None)
@given(low=spreads, extra=spreads, action=st.sampled_from([Action.BUY, Action.SELL]))
def test_price_is_monotone_in_the_half_spread(low: float, extra: float, action: Action) -> None:
    rfq = period_rfq(*MAY, action=action)

    def price(half: float) -> float:
        quote = _quote(CurveSpread(tenor_half_spread_eur_mwh=((10, half),)), rfq)
        assert quote.price is not None
        return quote.price

    narrow, wide = price(low), price(low + extra)
    assert (wide >= narrow) if action is Action.BUY else (wide <= narrow)


def test_decisions_are_identical_with_caches_cold_and_warm() -> None:
    rfqs = [
        period_rfq(*MAY, action=Action.BUY),
        period_rfq(*MAY, Load.PEAK, quote_type=QuoteType.TWO_WAY),
        period_rfq(date(2027, 1, 1), date(2028, 1, 1), Load.OFF_PEAK, action=Action.SELL),
        period_rfq(*MAY, commodity=Commodity.GAS, area="THE", requester_id="c-risky"),
    ]

    def decide() -> list[Decision]:
        return [PLAIN.price(rfq, snapshot()) for rfq in rfqs]

    clear_caches()
    clear_valuation_cache()
    cold = decide()
    assert all(isinstance(d, QuoteDecision) for d in cold)
    assert decide() == cold


def test_a_new_curve_set_gives_a_new_mid() -> None:
    rfq = period_rfq(*MAY, action=Action.BUY)
    old = _quote(PLAIN, rfq)
    higher = make_curves(make_series(prices=lambda t: wavy(t) + 5.0))
    new = _quote(PLAIN, rfq, curves=higher)
    assert new.curve_id != old.curve_id
    assert new.mid == pytest.approx(old.mid + 5.0, rel=1e-12)
    assert _quote(PLAIN, rfq).mid == old.mid
