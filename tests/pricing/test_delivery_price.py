"""The price of a delivery: the volume-weighted curve mean, against independent oracles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain import Commodity, Load
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.delivery import Delivery, delivery_of
from quoter.pricing.reasons import Decline, ReasonCode
from quoter.pricing.valuation import price_delivery
from tests.strategies.factories import (
    local,
    make_curves,
    make_series,
    make_shape,
    period_rfq,
    wavy,
)

CURVES = make_curves()
QUARTER = make_curves(make_series(step_s=900, prices=lambda t: wavy(t - t % 3600)))
FINE = make_curves(make_series(step_s=900))
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 11, 1))  # + 400 days on the curve


def _price(rfq: object, curves: object = CURVES, shape: object = None) -> float:
    delivery = delivery_of(rfq, shape)  # type: ignore[arg-type]
    assert isinstance(delivery, Delivery), delivery
    price = price_delivery(delivery, curves)  # type: ignore[arg-type]
    assert isinstance(price, float), price
    return price


def _oracle(first: date, last: date, load: Load) -> float:
    """Hour by hour with zoneinfo: the plain reading of curve-format.md."""
    series = CURVES[(Commodity.POWER, "DE")]
    total, hours = 0.0, 0
    instant = local(first)
    while instant < local(last):
        wall = instant.astimezone(MARKET_TIMEZONE)
        peak = wall.weekday() < 5 and 8 <= wall.hour < 20
        if load is Load.BASE or (load is Load.PEAK) == peak:
            total += float(series.prices[series.index(int(instant.timestamp()))])
            hours += 1
        instant += timedelta(hours=1)
    return total / hours


@pytest.mark.parametrize("load", [Load.BASE, Load.PEAK, Load.OFF_PEAK])
@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 1), date(2026, 4, 1)), (date(2026, 10, 19), date(2026, 10, 26))],
)
def test_constant_loads_match_an_hour_by_hour_oracle(first: date, last: date, load: Load) -> None:
    assert _price(period_rfq(first, last, load)) == pytest.approx(
        _oracle(first, last, load), rel=1e-12
    )


def test_quarter_hourly_curve_with_flat_hours_prices_like_the_hourly_one() -> None:
    for load in (Load.BASE, Load.PEAK, Load.OFF_PEAK):
        rfq = period_rfq(date(2026, 1, 1), date(2027, 1, 1), load)
        assert _price(rfq, QUARTER) == pytest.approx(_price(rfq), rel=1e-12)


def test_hourly_shape_on_a_quarter_hourly_curve_takes_the_mean_of_the_quarters() -> None:
    first, last = date(2026, 3, 29), date(2026, 3, 30)
    shape = make_shape(local(first), local(last), 3600, lambda i: 1.0 + i)
    series = FINE[(Commodity.POWER, "DE")]
    quarters = series.prices[series.index(int(local(first).timestamp())) :][: 23 * 4]
    hourly = quarters.reshape(23, 4).mean(axis=1)
    volumes = np.arange(1.0, 24.0)
    expected = float((volumes * hourly).sum() / volumes.sum())
    assert _price(period_rfq(first, last, Load.CUSTOM), FINE, shape) == pytest.approx(expected)


def test_quarter_hourly_shape_on_an_hourly_curve_takes_the_hours_price() -> None:
    first, last = date(2026, 10, 25), date(2026, 10, 26)
    shape = make_shape(local(first), local(last), 900, lambda i: float(i % 7))
    series = CURVES[(Commodity.POWER, "DE")]
    hourly = series.prices[series.index(int(local(first).timestamp())) :][:25]
    volumes = np.array([float(i % 7) for i in range(100)])
    expected = float((volumes * np.repeat(hourly, 4)).sum() / volumes.sum())
    assert _price(period_rfq(first, last, Load.CUSTOM), CURVES, shape) == pytest.approx(expected)


def test_area_without_a_curve_is_declined() -> None:
    delivery = delivery_of(period_rfq(date(2026, 5, 1), date(2026, 6, 1), area="FR"))
    assert isinstance(delivery, Delivery)
    result = price_delivery(delivery, CURVES)
    assert isinstance(result, Decline)
    assert result.reason is ReasonCode.NO_CURVE
    assert result.detail == "no power curve for FR"


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2029, 12, 1), date(2030, 1, 2)), (date(2024, 12, 31), date(2025, 1, 2))],
)
def test_delivery_outside_the_curve_is_declined(first: date, last: date) -> None:
    delivery = delivery_of(period_rfq(first, last))
    assert isinstance(delivery, Delivery)
    result = price_delivery(delivery, CURVES)
    assert isinstance(result, Decline)
    assert result.reason is ReasonCode.OUTSIDE_CURVE
    assert "is outside the curve" in result.detail


def test_delivery_off_the_curves_grid_is_declined() -> None:
    origin = int(local(date(2026, 1, 1)).timestamp()) + 1800
    odd = make_series(step_s=3600)
    shifted = type(odd)(odd.commodity, odd.market_area, origin, 3600, odd.prices, odd.as_of, "odd")
    delivery = delivery_of(period_rfq(date(2026, 5, 1), date(2026, 6, 1)))
    assert isinstance(delivery, Delivery)
    result = price_delivery(delivery, make_curves(shifted))
    assert isinstance(result, Decline)
    assert result.reason is ReasonCode.OUTSIDE_CURVE


def _window(first: date, length_days: int) -> tuple[date, date]:
    return first, first + timedelta(days=length_days)


@settings(max_examples=60, deadline=None)
@given(first=days, length_days=st.integers(1, 400))
def test_base_is_the_hour_weighted_mean_of_peak_and_off_peak(first: date, length_days: int) -> None:
    first, last = _window(first, length_days)
    base = delivery_of(period_rfq(first, last))
    peak = delivery_of(period_rfq(first, last, Load.PEAK))
    off = delivery_of(period_rfq(first, last, Load.OFF_PEAK))
    assert isinstance(base, Delivery)
    assert isinstance(off, Delivery)
    if isinstance(peak, Decline):  # a weekend: no peak hours, off-peak is base
        assert _price(period_rfq(first, last, Load.OFF_PEAK)) == pytest.approx(
            _price(period_rfq(first, last))
        )
        return
    assert peak.hours + off.hours == base.hours
    p = price_delivery(peak, CURVES)
    o = price_delivery(off, CURVES)
    b = price_delivery(base, CURVES)
    assert isinstance(p, float)
    assert isinstance(o, float)
    assert isinstance(b, float)
    assert b == pytest.approx((p * peak.hours + o * off.hours) / base.hours, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    first=days,
    length_days=st.integers(1, 40),
    step_s=st.sampled_from([900, 3600]),
    volume=st.floats(0.1, 500),
    fine=st.booleans(),
)
def test_a_flat_custom_shape_prices_like_base(
    first: date, length_days: int, step_s: int, volume: float, fine: bool
) -> None:
    first, last = _window(first, length_days)
    curves = FINE if fine else CURVES
    shape = make_shape(local(first), local(last), step_s, lambda i: volume)
    custom = _price(period_rfq(first, last, Load.CUSTOM), curves, shape)
    assert custom == pytest.approx(_price(period_rfq(first, last), curves), rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    first=days,
    length_days=st.integers(1, 60),
    load=st.sampled_from([Load.BASE, Load.PEAK, Load.OFF_PEAK]),
)
def test_a_constant_curve_prices_every_delivery_at_its_level(
    first: date, length_days: int, load: Load
) -> None:
    def flat(t: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.full(t.size, 42.5)

    first, last = _window(first, length_days)
    delivery = delivery_of(period_rfq(first, last, load))
    if isinstance(delivery, Decline):
        return
    price = price_delivery(delivery, make_curves(make_series(prices=flat)))
    assert price == pytest.approx(42.5, rel=1e-12)


def test_gas_day_prices_from_its_hours() -> None:
    rfq = period_rfq(date(2026, 3, 28), date(2026, 3, 29), commodity=Commodity.GAS, area="THE")
    series = CURVES[(Commodity.GAS, "THE")]
    start = datetime(2026, 3, 28, 5, tzinfo=UTC)
    i = series.index(int(start.timestamp()))
    assert _price(rfq) == pytest.approx(float(series.prices[i : i + 23].mean()))
