"""A simple, deterministic reference price for the simulated market until real curves are
wired in: an area level, a peak premium and a seasonal factor, averaged over the delivery."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from quoter.domain import Commodity, Instrument, Load, LoadShape
from quoter.pricing.calendar import HOUR_S, grid, local_seconds, peak_mask
from quoter.pricing.curve import CurveSet
from quoter.pricing.delivery import instrument_delivery
from quoter.pricing.reasons import Decline
from quoter.pricing.valuation import price_delivery

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ReferencePrice = Callable[[Instrument, LoadShape | None], float]

LEVEL_EUR_MWH: dict[str, float] = {
    "DE": 85.0,
    "AT": 92.0,
    "FR": 78.0,
    "NL": 88.0,
    "BE": 86.0,
    "CH": 96.0,
    "THE": 36.0,
    "TTF": 34.5,
    "PEG": 35.0,
    "CEGH-VTP": 37.0,
    "PSV": 38.0,
    "ZTP": 34.0,
}
PEAK_FACTOR = 1.25
OFF_PEAK_FACTOR = 0.87
SEASONAL_AMPLITUDE = 0.15
_DAY_S = 86400
_MAX_HOURS = 24 * 366 * 2  # a delivery this long is priced on its first two years


def _hourly_factors(start_s: IntArray, commodity: Commodity) -> FloatArray:
    day_of_year = (local_seconds(start_s) // _DAY_S) % 365.25
    seasonal: FloatArray = 1.0 + SEASONAL_AMPLITUDE * np.cos(
        2 * np.pi * (day_of_year - 15) / 365.25
    )
    if commodity is Commodity.GAS:
        return seasonal
    shaped: FloatArray = seasonal * np.where(peak_mask(start_s), PEAK_FACTOR, OFF_PEAK_FACTOR)
    return shaped


def default_reference_price(instrument: Instrument, shape: LoadShape | None) -> float:
    """EUR/MWh, rounded to cents: the delivered hours' factors averaged (volume-weighted for a
    shape) times the area's level."""
    level = LEVEL_EUR_MWH.get(instrument.market_area, 80.0)
    if shape is not None:
        starts = np.array([int(s.timestamp()) for s in shape.starts], dtype=np.int64)
        weights = np.array(shape.volumes_mw, dtype=np.float64)
    else:
        start_s, end_s = int(instrument.start.timestamp()), int(instrument.end.timestamp())
        starts = grid(start_s, start_s + (end_s - start_s) // HOUR_S * HOUR_S, HOUR_S)
        starts = starts[:_MAX_HOURS]
        weights = _load_weights(starts, instrument.load)
    factors = _hourly_factors(starts, instrument.commodity)
    total = float(weights.sum())
    mean = float((factors * weights).sum() / total) if total > 0 else float(factors.mean())
    return round(level * mean, 2)


def _load_weights(starts: IntArray, load: Load) -> FloatArray:
    if load is Load.PEAK:
        return peak_mask(starts).astype(np.float64)
    if load is Load.OFF_PEAK:
        return (~peak_mask(starts)).astype(np.float64)
    return np.ones(starts.shape, dtype=np.float64)


def curve_reference(curves: CurveSet) -> Callable[[Instrument, LoadShape | None], float]:
    """The sandbox's dealers price around the same curves the demo bot quotes from."""

    def reference(instrument: Instrument, shape: LoadShape | None) -> float:
        delivery = instrument_delivery(instrument, 1.0, shape)
        price = delivery if isinstance(delivery, Decline) else price_delivery(delivery, curves)
        if isinstance(price, Decline):
            return default_reference_price(instrument, shape)  # outside the curves' reach
        return round(price, 2)

    return reference
