"""Delivery periods: published hour counts, DST days, gas days, product types, shapes, buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from quoter.domain import Commodity, Load, ProductType
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.delivery import Delivery, DeliveryBucket, delivery_of
from quoter.pricing.reasons import Decline, ReasonCode
from quoter.venue.parse import parse_load_shape
from tests.factories import make_instrument, make_rfq
from tests.strategies.factories import local, make_shape, period_rfq


def _delivery(first: date, last: date, load: Load = Load.BASE, **kw: Any) -> Delivery:
    delivery = delivery_of(period_rfq(first, last, load, **kw))
    assert isinstance(delivery, Delivery), delivery
    return delivery


def _declined(result: object, reason: ReasonCode) -> str:
    assert isinstance(result, Decline), result
    assert result.reason is reason, result
    return result.detail


@pytest.mark.parametrize(
    ("first", "last", "load", "hours"),
    [
        (date(2026, 1, 1), date(2027, 1, 1), Load.BASE, 8760),
        (date(2026, 1, 1), date(2027, 1, 1), Load.PEAK, 3132),
        (date(2026, 1, 1), date(2027, 1, 1), Load.OFF_PEAK, 8760 - 3132),
        (date(2026, 3, 1), date(2026, 4, 1), Load.BASE, 743),
        (date(2026, 10, 1), date(2026, 11, 1), Load.BASE, 745),
        (date(2026, 1, 1), date(2026, 4, 1), Load.BASE, 2159),
        (date(2026, 3, 29), date(2026, 3, 30), Load.BASE, 23),
        (date(2026, 10, 25), date(2026, 10, 26), Load.BASE, 25),
        (date(2026, 3, 29), date(2026, 3, 30), Load.OFF_PEAK, 23),
    ],
)
def test_published_hour_counts(first: date, last: date, load: Load, hours: int) -> None:
    assert _delivery(first, last, load).hours == hours


@pytest.mark.parametrize(
    ("product", "first", "last", "hours"),
    [
        (ProductType.DAY, date(2026, 3, 3), date(2026, 3, 4), 24),
        (ProductType.WEEKEND, date(2026, 3, 28), date(2026, 3, 30), 47),
        (ProductType.WEEK, date(2026, 3, 9), date(2026, 3, 16), 168),
        (ProductType.BALANCE_OF_MONTH, date(2026, 3, 3), date(2026, 4, 1), 29 * 24 - 1),
        (ProductType.MONTH, date(2026, 2, 1), date(2026, 3, 1), 672),
        (ProductType.QUARTER, date(2026, 1, 1), date(2026, 4, 1), 2159),
        (ProductType.SEASON, date(2026, 4, 1), date(2026, 10, 1), 183 * 24),
        (ProductType.YEAR, date(2028, 1, 1), date(2029, 1, 1), 8784),
        (ProductType.CUSTOM, date(2026, 5, 4), date(2026, 5, 6), 48),
    ],
)
def test_every_power_product_type(
    product: ProductType, first: date, last: date, hours: int
) -> None:
    rfq = period_rfq(first, last)
    rfq = make_rfq(instrument=make_instrument(**{**_fields(rfq), "product_type": product}))
    delivery = delivery_of(rfq)
    assert isinstance(delivery, Delivery)
    assert delivery.hours == hours
    assert delivery.energy_mwh == pytest.approx(10.0 * hours)


def _fields(rfq: object) -> dict[str, object]:
    i = rfq.instrument  # type: ignore[attr-defined]
    return {"commodity": i.commodity, "market_area": i.market_area, "start": i.start, "end": i.end}


def test_gas_days_run_06_to_06_with_dst_days_of_23_and_25_hours() -> None:
    gas: dict[str, Any] = {"commodity": Commodity.GAS, "area": "THE"}
    assert _delivery(date(2026, 3, 28), date(2026, 3, 29), **gas).hours == 23
    assert _delivery(date(2026, 10, 24), date(2026, 10, 25), **gas).hours == 25
    assert _delivery(date(2026, 3, 29), date(2026, 3, 30), **gas).hours == 24
    gas_year = _delivery(date(2026, 10, 1), date(2027, 10, 1), **gas)
    assert gas_year.hours == 8760
    assert gas_year.start_s == int(datetime(2026, 10, 1, 4, tzinfo=UTC).timestamp())


def test_gas_maturity_off_the_gas_day_is_declined() -> None:
    rfq = make_rfq(
        instrument=make_instrument(
            commodity=Commodity.GAS,
            market_area="TTF",
            start=local(date(2026, 4, 1)),
            end=local(date(2026, 5, 1)),
        )
    )
    assert "gas-day boundary" in _declined(delivery_of(rfq), ReasonCode.BAD_MATURITY)


def test_maturity_off_the_hour_is_declined() -> None:
    start = local(date(2026, 4, 1)) + timedelta(minutes=30)
    rfq = make_rfq(instrument=make_instrument(start=start, end=local(date(2026, 4, 2))))
    detail = _declined(delivery_of(rfq), ReasonCode.BAD_MATURITY)
    assert "start 2026-03-31T22:30:00Z is not on a whole hour" in detail


def test_peak_blocks_are_08_to_20_local_on_weekdays() -> None:
    delivery = _delivery(date(2026, 3, 23), date(2026, 3, 30), Load.PEAK)  # a week, DST Sunday
    assert delivery.period.block_starts_s.size == 5
    assert set(delivery.period.block_ends_s - delivery.period.block_starts_s) == {12 * 3600}
    first = datetime.fromtimestamp(int(delivery.period.block_starts_s[0]), UTC)
    assert first == datetime(2026, 3, 23, 7, tzinfo=UTC)  # 08:00 CET
    summer = _delivery(date(2026, 3, 30), date(2026, 3, 31), Load.PEAK)
    assert int(summer.period.block_starts_s[0]) == int(
        datetime(2026, 3, 30, 6, tzinfo=UTC).timestamp()
    )


def test_peak_without_weekdays_has_no_delivery_hours() -> None:
    result = delivery_of(period_rfq(date(2026, 3, 28), date(2026, 3, 30), Load.PEAK))
    assert "peak has no hours" in _declined(result, ReasonCode.NO_DELIVERY_HOURS)


def test_off_peak_day_is_two_blocks_and_arrays_are_read_only() -> None:
    delivery = _delivery(date(2026, 3, 3), date(2026, 3, 4), Load.OFF_PEAK)
    assert delivery.hours == 12
    assert list(delivery.period.block_ends_s - delivery.period.block_starts_s) == [
        8 * 3600,
        4 * 3600,
    ]
    with pytest.raises(ValueError, match="read-only"):
        delivery.period.block_starts_s[0] = 0


def test_repeated_products_share_the_cached_expansion() -> None:
    a = _delivery(date(2026, 1, 1), date(2027, 1, 1), Load.PEAK)
    b = _delivery(date(2026, 1, 1), date(2027, 1, 1), Load.PEAK, quantity_mw=5.0)
    assert a.period is b.period
    assert b.energy_mwh == 5.0 * 3132


def test_unknown_area_is_declined() -> None:
    rfq = make_rfq(instrument=make_instrument(market_area="XX"))
    assert "'XX'" in _declined(delivery_of(rfq), ReasonCode.UNKNOWN_AREA)
    gas_area_for_power = make_rfq(instrument=make_instrument(market_area="TTF"))
    _declined(delivery_of(gas_area_for_power), ReasonCode.UNKNOWN_AREA)


def test_buckets_split_energy_by_local_month() -> None:
    buckets = dict(_delivery(date(2026, 1, 1), date(2027, 1, 1)).buckets())
    assert len(buckets) == 12
    assert buckets[DeliveryBucket(Commodity.POWER, "DE", "2026-03")] == 7430.0
    assert buckets[DeliveryBucket(Commodity.POWER, "DE", "2026-10")] == 7450.0
    assert sum(buckets.values()) == 87600.0


def test_gas_buckets_follow_the_gas_day() -> None:
    gas = _delivery(date(2026, 2, 28), date(2026, 3, 2), commodity=Commodity.GAS, area="THE")
    assert dict(gas.buckets()) == {
        DeliveryBucket(Commodity.GAS, "THE", "2026-02"): 240.0,
        DeliveryBucket(Commodity.GAS, "THE", "2026-03"): 240.0,
    }


# --- custom load shapes ---------------------------------------------------------------------


def _wire_shape(day: date, step_s: int, fmt: str) -> dict[str, object]:
    """A venue load-shape document for one local day, in the 23/25 or 24/25 format."""
    start, end = local(day), local(day + timedelta(days=1))
    instants = [
        start + timedelta(seconds=s) for s in range(0, int((end - start).total_seconds()), step_s)
    ]
    points = [(t.astimezone(MARKET_TIMEZONE), 1.0 + i) for i, t in enumerate(instants)]
    data = [{"interval-start": t.isoformat(), "quantity": {"value": v}} for t, v in points]
    if fmt == "24/25" and len(instants) * step_s == 23 * 3600:
        # the missing March hour, written as zeros at 02:xx+01:00 (the same instants as 03:xx+02:00)
        missing = [
            {"interval-start": f"{day.isoformat()}T02:{m:02d}:00+01:00", "quantity": {"value": 0.0}}
            for m in range(0, 60, step_s // 60)
        ]
        data = data[: 2 * 3600 // step_s] + missing + data[2 * 3600 // step_s :]
    resolution = "PT1H" if step_s == 3600 else "PT15M"
    return {"resolution": resolution, "unit": "MW", "format": fmt, "data": data}


@pytest.mark.parametrize("fmt", ["23/25", "24/25"])
@pytest.mark.parametrize("step_s", [3600, 900])
@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_shapes_in_both_formats_and_resolutions(
    fmt: str, step_s: int, day: date, hours: int
) -> None:
    document = _wire_shape(day, step_s, fmt)
    shape = parse_load_shape(document)
    rfq = period_rfq(day, day + timedelta(days=1), Load.CUSTOM)
    delivery = delivery_of(rfq, shape)
    assert isinstance(delivery, Delivery), delivery
    assert delivery.hours == hours
    count = hours * 3600 // step_s
    assert delivery.energy_mwh == pytest.approx(sum(1.0 + i for i in range(count)) * step_s / 3600)


def test_custom_without_shape_is_declined() -> None:
    rfq = period_rfq(date(2026, 5, 4), date(2026, 5, 5), Load.CUSTOM)
    _declined(delivery_of(rfq, None), ReasonCode.SHAPE_MISSING)


@pytest.mark.parametrize(
    ("shift_s", "count_change", "step_s", "volume", "expected"),
    [
        (-3600, 0, 3600, 1.0, "lies outside the maturity"),
        (3600, 0, 3600, 1.0, "lies outside the maturity"),
        (900, -4, 3600, 1.0, "not on the PT1H grid"),
        (0, -1, 3600, 1.0, "first missing 2026-05-04T21:00:00Z"),
        (0, -1, 900, 1.0, "shape has 95 PT15M intervals, the maturity has 96"),
        (0, 0, 3600, 0.0, "no energy"),
    ],
)
def test_shapes_that_do_not_fit_are_declined(
    shift_s: int, count_change: int, step_s: int, volume: float, expected: str
) -> None:
    start, end = local(date(2026, 5, 4)), local(date(2026, 5, 5))
    shifted = start + timedelta(seconds=shift_s)
    shape = make_shape(
        shifted, end + timedelta(seconds=shift_s + count_change * step_s), step_s, lambda i: volume
    )
    rfq = period_rfq(date(2026, 5, 4), date(2026, 5, 5), Load.CUSTOM)
    assert expected in _declined(delivery_of(rfq, shape), ReasonCode.SHAPE_MISMATCH)


def test_custom_buckets_carry_the_shape_energy() -> None:
    shape = make_shape(
        local(date(2026, 5, 31)), local(date(2026, 6, 2)), 900, lambda i: 4.0 if i < 96 else 8.0
    )
    rfq = period_rfq(date(2026, 5, 31), date(2026, 6, 2), Load.CUSTOM)
    delivery = delivery_of(rfq, shape)
    assert isinstance(delivery, Delivery)
    assert dict(delivery.buckets()) == {
        DeliveryBucket(Commodity.POWER, "DE", "2026-05"): 96.0,
        DeliveryBucket(Commodity.POWER, "DE", "2026-06"): 192.0,
    }
