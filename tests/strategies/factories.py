"""Factories for pricing and strategy tests: curves, load shapes, RFQs for local periods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from quoter.domain import Commodity, Load, LoadShape, QuoteType, Rfq
from quoter.pricing.calendar import grid, local_midnight_utc
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.strategies_api import MarketSnapshot
from tests.factories import make_instrument, make_rfq

AS_OF = datetime(2026, 1, 2, 17, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
CURVE_START = date(2025, 1, 1)
CURVE_END = date(2030, 1, 1)
PriceFn = Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]]


def wavy(instants_s: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """A curve with daily and weekly shape, so peak, off-peak and shapes price differently."""
    hours = instants_s / 3600.0
    prices: npt.NDArray[np.float64] = (
        60 + 25 * np.sin(hours * 2 * np.pi / 24) + 5 * np.cos(hours * 2 * np.pi / 168)
    )
    return prices


def make_series(
    commodity: Commodity = Commodity.POWER,
    area: str = "DE",
    *,
    step_s: int = 3600,
    first: date = CURVE_START,
    last: date = CURVE_END,
    prices: PriceFn = wavy,
) -> CurveSeries:
    start_s = int(local_midnight_utc(first).timestamp())
    end_s = int(local_midnight_utc(last).timestamp())
    starts = grid(start_s, end_s, step_s)
    return CurveSeries(commodity, area, start_s, step_s, prices(starts), AS_OF, f"test:{area}")


def make_curves(*series: CurveSeries) -> CurveSet:
    chosen = series or (make_series(), make_series(Commodity.GAS, "THE"))
    return CurveSet({s.key: s for s in chosen})


def local(day: date, hour: int = 0) -> datetime:
    return local_midnight_utc(day, hour)


def period_rfq(
    first: date,
    last: date,
    load: Load = Load.BASE,
    *,
    commodity: Commodity = Commodity.POWER,
    area: str = "DE",
    **overrides: Any,
) -> Rfq:
    """An RFQ delivering from `first` to `last` (exclusive), local days (gas: gas days)."""
    hour = 6 if commodity is Commodity.GAS else 0
    instrument = make_instrument(
        commodity=commodity,
        market_area=area,
        load=load,
        start=local(first, hour),
        end=local(last, hour),
    )
    if load is Load.CUSTOM:
        overrides.setdefault("shape_ref", "https://venue.example/rfqs/x/load-shape")
    if overrides.get("quote_type") is QuoteType.TWO_WAY:
        overrides.setdefault("action", None)
    # one replace, so a custom load and its shape reference arrive together
    return replace(make_rfq(), instrument=instrument, **overrides)


def make_shape(
    start: datetime,
    end: datetime,
    step_s: int = 3600,
    volume: Callable[[int], float] = lambda i: 10.0,
) -> LoadShape:
    count = int((end - start).total_seconds()) // step_s
    starts = tuple(start + timedelta(seconds=i * step_s) for i in range(count))
    return LoadShape(step_s, starts, tuple(volume(i) for i in range(count)))


def snapshot(curves: CurveSet | None = None, **overrides: Any) -> MarketSnapshot:
    return MarketSnapshot(
        curves=curves or make_curves(), now=overrides.pop("now", NOW), **overrides
    )
