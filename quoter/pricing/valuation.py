"""The curve's price of a delivery: the volume-weighted mean sum(q*F*dt) / sum(q*dt) of
curve-format.md, computed from the curve's prefix sums (constant load) or per interval (custom),
and memoised per (curve set, product) so a repeated product costs one look-up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import NamedTuple

import numpy as np

from quoter.domain import Instrument, Load, LoadShape
from quoter.pricing.calendar import HOUR_S
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.delivery import Delivery, iso
from quoter.pricing.delivery import instrument_delivery as _instrument_delivery
from quoter.pricing.reasons import Decline, ReasonCode

VALUATION_CACHE_SIZE = 32_768
_CUSTOM = Load.CUSTOM  # a module constant: an enum member look-up costs four times as much


class Valuation(NamedTuple):
    """What the curves say about a product, whatever its quantity: its price, the as-of of the
    series that priced it, and the delivery facts a quote reports."""

    mid_eur_mwh: float
    curve_as_of: datetime
    start_s: int
    hours: float
    shape_energy_mwh: float | None  # a custom load's energy; None: quantity times hours


# A memo of pure functions, not state. Keys hold only values that name content: the curve set's
# content hash, the instrument's fields or the period's key. No object whose id could be reused
# once collected, no reference keeping an old curve set or a load shape alive. The engine prices
# in worker threads, so each operation on it is one atomic call; eviction is oldest first.
_valuations: OrderedDict[Hashable, Valuation | Decline] = OrderedDict()


def price_delivery(delivery: Delivery, curves: CurveSet) -> float | Decline:
    """EUR/MWh of the delivery on the curves, or why the curves cannot price it (memoised)."""
    valued = value_delivery(delivery, curves)
    return valued if isinstance(valued, Decline) else valued.mid_eur_mwh


def value_instrument(
    instrument: Instrument, shape: LoadShape | None, curves: CurveSet
) -> Valuation | Decline:
    """The valuation of an instrument (a custom load with its shape) on the curves, or why there
    is none: one look-up for a constant load priced before on the same curves."""
    if instrument.load is _CUSTOM:
        delivery = _instrument_delivery(instrument, 1.0, shape)
        return delivery if isinstance(delivery, Decline) else value_delivery(delivery, curves)
    key = (
        curves.id,
        instrument.commodity,
        instrument.market_area,
        instrument.load,
        instrument.start,
        instrument.end,
    )
    valued = _valuations.get(key)
    if valued is None:
        delivery = _instrument_delivery(instrument, 1.0)
        valued = delivery if isinstance(delivery, Decline) else value_delivery(delivery, curves)
        _remember(key, valued)
    return valued


def value_delivery(delivery: Delivery, curves: CurveSet) -> Valuation | Decline:
    """The valuation of a delivery on the curves, or why there is none (memoised)."""
    key = (curves.id, delivery.market_area, delivery.period.key)
    valued = _valuations.get(key)
    if valued is None:
        valued = _valued(delivery, curves)
        _remember(key, valued)
    return valued


def _valued(delivery: Delivery, curves: CurveSet) -> Valuation | Decline:
    mid = curve_price(delivery, curves)
    if isinstance(mid, Decline):
        return mid
    period = delivery.period
    as_of = curves.series[(delivery.commodity, delivery.market_area)].as_of
    shaped = None if period.volumes_mw is None else delivery.energy_mwh
    return Valuation(mid, as_of, delivery.start_s, period.hours, shaped)


def _remember(key: Hashable, valued: Valuation | Decline) -> None:
    _valuations[key] = valued
    while len(_valuations) > VALUATION_CACHE_SIZE:
        try:
            _valuations.popitem(last=False)
        except KeyError:  # emptied by another thread
            break


def clear_valuation_cache() -> None:
    """Forget every memoised valuation (benchmarks measure the cold path with this)."""
    _valuations.clear()


def curve_price(delivery: Delivery, curves: CurveSet) -> float | Decline:
    """EUR/MWh of the delivery on the curves, computed afresh: what `price_delivery` memoises."""
    series = curves.series.get((delivery.commodity, delivery.market_area))
    if series is None:
        return Decline(
            ReasonCode.NO_CURVE, f"no {delivery.commodity} curve for {delivery.market_area}"
        )
    problem = _coverage_problem(delivery, series)
    if problem is not None:
        return Decline(ReasonCode.OUTSIDE_CURVE, problem)
    if delivery.period.volumes_mw is None:
        return _constant_price(delivery, series)
    return _shaped_price(delivery, series)


def _coverage_problem(delivery: Delivery, series: CurveSeries) -> str | None:
    start_s, end_s = delivery.start_s, delivery.end_s
    if start_s < series.start_s or end_s > series.end_s:
        return (
            f"{delivery.commodity}/{delivery.market_area}: delivery {iso(start_s)}..{iso(end_s)} "
            f"is outside the curve {iso(series.start_s)}..{iso(series.end_s)}"
        )
    if (start_s - series.start_s) % series.step_s:
        return f"delivery start {iso(start_s)} is not on the curve's {series.step_s} s grid"
    return None


def _constant_price(delivery: Delivery, series: CurveSeries) -> float:
    """Equal weights: the mean of the curve over the blocks, two prefix-sum look-ups a block."""
    period = delivery.period
    step, cumulative = series.step_s, series.cumulative
    first = (delivery.start_s - series.start_s) // step
    per_hour = HOUR_S // step
    single = period.single_block_hours
    if single is not None:
        i, j = first + single[0] * per_hour, first + single[1] * per_hour
        return float((cumulative[j] - cumulative[i]) / (j - i))
    edges = period.edge_hours if per_hour == 1 else period.edge_hours * per_hour
    total = float(np.dot(period.edge_signs, cumulative.take(edges + first)))
    return total / (period.hours * per_hour)


def _shaped_price(delivery: Delivery, series: CurveSeries) -> float:
    """Per interval: an hourly shape on a quarter-hourly curve takes the mean of the hour's
    quarters; a quarter-hourly shape on an hourly curve takes the hour's price."""
    period = delivery.period
    volumes = period.volumes_mw
    assert volumes is not None  # _shaped_price is only called for custom loads
    first = (delivery.start_s - series.start_s) // series.step_s
    if period.step_s >= series.step_s:
        per = period.step_s // series.step_s
        prices = series.prices[first : first + volumes.size * per]
        if per > 1:
            prices = prices.reshape(-1, per).mean(axis=1)
        weights = volumes
    else:
        per = series.step_s // period.step_s
        weights = volumes.reshape(-1, per).sum(axis=1)
        prices = series.prices[first : first + weights.size]
    return float(np.dot(weights, prices)) / period.volume_sum_mw
