"""The built-in synthetic curves of the sandbox and of `quoter run` without curve files: DE, FR
and NL power, THE and TTF gas, made by the builder from synthetic forward products, so they are
arbitrage-free by construction and deterministic in (as_of's month, years, seed).

The products tile the horizon the way a desk's curve does: the months left in as_of's year, the
quarters of next year, then calendar years up to Cal+`years`; power has a peak product for each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from quoter.domain.market import Commodity, Load
from quoter.pricing.builder import build_series
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.curve import CurveSet
from quoter.pricing.curve_inputs import Product, default_shape, delivery_dates, make_product

_MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class SyntheticMarket:
    """One synthetic series: its base level, seasonal swing and (power) peak premium."""

    commodity: Commodity
    market_area: str
    base_eur_mwh: float
    winter_swing: float
    peak_premium: float


MARKETS = (
    SyntheticMarket(Commodity.POWER, "DE", 90.0, 0.12, 0.22),
    SyntheticMarket(Commodity.POWER, "FR", 86.0, 0.16, 0.20),
    SyntheticMarket(Commodity.POWER, "NL", 93.0, 0.11, 0.21),
    SyntheticMarket(Commodity.GAS, "THE", 35.0, 0.10, 0.0),
    SyntheticMarket(Commodity.GAS, "TTF", 34.5, 0.10, 0.0),
)
YEARLY_DRIFT = -0.015  # mild backwardation: later years a little cheaper


def product_labels(year: int, month: int, years: int) -> list[str]:
    """The months left in `year` from `month`, next year's quarters, then Cal+2..Cal+`years`."""
    yy = f"{(year % 100):02d}"
    labels = [f"{_MONTH_LABELS[m - 1]}-{yy}" for m in range(month, 13)]
    if years >= 1:
        labels += [f"Q{q}-{(year + 1) % 100:02d}" for q in range(1, 5)]
    labels += [f"Cal-{(year + k) % 100:02d}" for k in range(2, years + 1)]
    return labels


def _monthly_level(market: SyntheticMarket, year: int, month: int) -> float:
    winter = math.cos(2 * math.pi * (month - 1) / 12)
    return market.base_eur_mwh * (1 + market.winter_swing * winter)


def _products(
    market: SyntheticMarket, labels: list[str], as_of_year: int, seed: int, index: int
) -> list[Product]:
    rng = np.random.default_rng([seed, index])
    products = []
    for label in labels:
        first, end = delivery_dates(label)
        months = [
            (first.year * 12 + first.month - 1 + k)
            for k in range((end.year - first.year) * 12 + end.month - first.month)
        ]
        level = float(np.mean([_monthly_level(market, m // 12, m % 12 + 1) for m in months]))
        drift = (1 + YEARLY_DRIFT) ** (first.year - as_of_year)
        base = round(level * drift * (1 + rng.normal(0, 0.015)), 2)
        products.append(make_product(market.commodity, market.market_area, label, Load.BASE, base))
        if market.commodity is Commodity.POWER:
            winter = math.cos(2 * math.pi * (first.month - 1 + len(months) / 2 - 0.5) / 12)
            premium = market.peak_premium * (1 + 0.25 * winter * (len(months) < 12))
            peak = round(base * (1 + premium + rng.normal(0, 0.01)), 2)
            products.append(
                make_product(market.commodity, market.market_area, label, Load.PEAK, peak)
            )
    return products


def synthetic_products(as_of: datetime, *, years: int = 3, seed: int = 0) -> list[Product]:
    """The synthetic forward products of every market, from as_of's local month to Cal+`years`."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if years < 0:
        raise ValueError("years must not be negative")
    local = as_of.astimezone(MARKET_TIMEZONE)
    labels = product_labels(local.year, local.month, years)
    return [p for i, m in enumerate(MARKETS) for p in _products(m, labels, local.year, seed, i)]


def synthetic_curve_set(as_of: datetime, *, years: int = 3, seed: int = 0) -> CurveSet:
    """Hourly curves for every synthetic market, from the start of as_of's local month to the end
    of calendar year as_of + `years`; same arguments, same `CurveSet.id`."""
    products = synthetic_products(as_of, years=years, seed=seed)
    as_of_utc = as_of.astimezone(UTC)
    series = {}
    for market in MARKETS:
        own = [p for p in products if p.key == (market.commodity, market.market_area)]
        built = build_series(own, default_shape(market.commodity), as_of_utc)
        series[built.key] = built
    return CurveSet(series)
