"""The pricing memos: a cached price is the price computed afresh, and is never another curve
set's or another load shape's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain import Commodity, Load, LoadShape, Rfq
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.delivery import Delivery, clear_caches, delivery_of
from quoter.pricing.reasons import Decline
from quoter.pricing.valuation import (
    Valuation,
    clear_valuation_cache,
    curve_price,
    price_delivery,
    value_delivery,
    value_instrument,
)
from tests.strategies.factories import (
    local,
    make_curves,
    make_series,
    make_shape,
    period_rfq,
    wavy,
)

CURVES = make_curves()
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 11, 1))
loads = st.sampled_from([Load.BASE, Load.PEAK, Load.OFF_PEAK])


def _delivery(rfq: Rfq, shape: LoadShape | None = None) -> Delivery:
    delivery = delivery_of(rfq, shape)
    assert isinstance(delivery, Delivery), delivery
    return delivery


def _valued(rfq: Rfq, curves: object = CURVES, shape: LoadShape | None = None) -> Valuation:
    valued = value_instrument(rfq.instrument, shape, curves)  # type: ignore[arg-type]
    assert isinstance(valued, Valuation), valued
    return valued


def _shifted(t: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return wavy(t) + 7.0


@settings(max_examples=60, deadline=None)
@given(first=days, length_days=st.integers(1, 400), load=loads, area=st.sampled_from(["DE", "THE"]))
def test_cached_and_fresh_prices_are_identical(
    first: date, length_days: int, load: Load, area: str
) -> None:
    gas = area == "THE"
    commodity, load = (Commodity.GAS, Load.BASE) if gas else (Commodity.POWER, load)
    rfq = period_rfq(
        first, first + timedelta(days=length_days), load, commodity=commodity, area=area
    )
    delivery = delivery_of(rfq)
    if isinstance(delivery, Decline):
        return
    clear_caches()
    clear_valuation_cache()
    fresh = curve_price(delivery, CURVES)
    first_sight = price_delivery(delivery, CURVES)
    again = price_delivery(_delivery(rfq), CURVES)
    by_instrument = value_instrument(rfq.instrument, None, CURVES)
    assert isinstance(fresh, float)
    assert first_sight == again == fresh  # exactly: the memo stores, it does not recompute
    assert isinstance(by_instrument, Valuation)
    assert by_instrument.mid_eur_mwh == fresh
    assert by_instrument.hours == delivery.hours
    assert by_instrument.start_s == delivery.start_s
    assert by_instrument.shape_energy_mwh is None


def test_a_custom_price_is_cached_per_shape_content() -> None:
    first, last = date(2026, 5, 4), date(2026, 5, 6)
    rfq = period_rfq(first, last, Load.CUSTOM)
    flat = make_shape(local(first), local(last))
    ramp = make_shape(local(first), local(last), volume=lambda i: 1.0 + i)
    flat_again = make_shape(local(first), local(last))
    prices = [_valued(rfq, shape=s).mid_eur_mwh for s in (flat, ramp, flat_again)]
    assert prices[0] == prices[2] != prices[1]
    for shape, price in zip((flat, ramp), prices[:2], strict=True):
        assert price == curve_price(_delivery(rfq, shape), CURVES)
    assert _valued(rfq, shape=ramp).shape_energy_mwh == _delivery(rfq, ramp).energy_mwh


def test_a_new_curve_set_does_not_reuse_an_old_price() -> None:
    rfq = period_rfq(date(2026, 5, 1), date(2026, 6, 1), Load.PEAK)
    old = make_curves(make_series())
    new = make_curves(make_series(prices=_shifted))
    before = _valued(rfq, old).mid_eur_mwh
    after = _valued(rfq, new).mid_eur_mwh
    assert after == pytest.approx(before + 7.0, rel=1e-12)
    assert after == curve_price(_delivery(rfq), new)
    assert _valued(rfq, old).mid_eur_mwh == before  # both stay cached, each under its own id


def test_the_as_of_comes_from_the_curve_set_priced() -> None:
    rfq = period_rfq(date(2026, 5, 1), date(2026, 6, 1))
    later = make_series()
    later = type(later)(
        later.commodity,
        later.market_area,
        later.start_s,
        later.step_s,
        later.prices,
        later.as_of + timedelta(days=1),
        later.source,
    )
    old, new = make_curves(make_series()), make_curves(later)
    assert old.id != new.id  # the id covers the as-of
    assert _valued(rfq, new).curve_as_of == later.as_of
    assert _valued(rfq, old).curve_as_of == later.as_of - timedelta(days=1)


def test_declines_are_cached_alike() -> None:
    rfq = period_rfq(date(2026, 5, 2), date(2026, 5, 4), Load.PEAK)  # a weekend: no peak hours
    first = value_instrument(rfq.instrument, None, CURVES)
    assert first == value_instrument(rfq.instrument, None, CURVES)
    assert isinstance(first, Decline)
    no_curve = period_rfq(date(2026, 5, 1), date(2026, 6, 1), area="NL")
    assert isinstance(value_delivery(_delivery(no_curve), CURVES), Decline)


@settings(max_examples=25, deadline=None)
@given(first=days, length_days=st.integers(1, 800), load=loads, gas=st.booleans())
def test_month_buckets_match_the_wall_clock(
    first: date, length_days: int, load: Load, gas: bool
) -> None:
    commodity, area = (Commodity.GAS, "THE") if gas else (Commodity.POWER, "DE")
    load = Load.BASE if gas else load
    rfq = period_rfq(
        first, first + timedelta(days=length_days), load, commodity=commodity, area=area
    )
    delivery = delivery_of(rfq)
    if isinstance(delivery, Decline):
        return
    period = delivery.period
    expected: dict[str, float] = {}
    blocks = zip(period.block_starts_s.tolist(), period.block_ends_s.tolist(), strict=True)
    for start_s, end_s in blocks:
        for instant_s in range(start_s, end_s, 3600):
            month = _wall_month(instant_s, gas)
            expected[month] = expected.get(month, 0.0) + delivery.quantity_mw
    got = {bucket.month: mwh for bucket, mwh in delivery.buckets()}
    assert list(got) == sorted(expected)
    assert got == pytest.approx(expected)


def _wall_month(instant_s: int, gas: bool) -> str:
    """The local month of an hour, with zoneinfo (gas: of the gas day, from 06:00)."""
    wall = datetime.fromtimestamp(instant_s, UTC).astimezone(MARKET_TIMEZONE)
    if gas:
        wall -= timedelta(hours=6)
    return f"{wall.year:04d}-{wall.month:02d}"
