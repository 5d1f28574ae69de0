"""The arbitrage-free curve builder: from forward product prices (months, quarters, seasons, gas
years, calendar years; base and peak) and hourly shape factors, an hourly curve whose mean over
every product's hours is that product's price exactly.

The curve is the one nearest the shape that meets every price: minimise ||x - s||² subject to
A x = b, so x = s + Aᵀ(AAᵀ)⁻¹(b - A s), where row i of A is the mean over product i's hours. The
shape s is the factors scaled to the price of the shortest base product over each hour, so the
correction is small. Products that depend on others (a year and its four quarters) are accepted
only when their prices agree; otherwise they are refused, naming the products. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from quoter.domain.market import Commodity, Load
from quoter.pricing.calendar import (
    HOUR_S,
    grid,
    peak_mask,
)
from quoter.pricing.curve import CurveSeries, CurveSet, SeriesKey
from quoter.pricing.curve_inputs import (
    BuildError,
    Product,
    ShapeProfile,
    default_shape,
    shape_factors,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DEPENDENT = 1e-10  # relative residual under which a product lies in the span of the others


# --- the projection -------------------------------------------------------------------------


def _masks(products: Sequence[Product], starts_s: IntArray) -> FloatArray:
    """One 0/1 row per product over the hours it averages (peak products: their peak hours)."""
    origin = int(starts_s[0])
    peak = peak_mask(starts_s)
    masks = np.zeros((len(products), starts_s.size))
    for row, p in enumerate(products):
        i, j = (p.start_s - origin) // HOUR_S, (p.end_s - origin) // HOUR_S
        masks[row, i:j] = peak[i:j] if p.load is Load.PEAK else 1.0
        if not masks[row].any():
            raise BuildError(f"{p.name} has no hours")
    return masks


def _independent(products: Sequence[Product], gram: FloatArray, tolerance: float) -> list[int]:
    """Indices of a basis of the product rows, shortest first; a product the others determine is
    dropped if its price agrees with theirs and refused, with them named, if it does not."""
    order = sorted(range(len(products)), key=lambda k: (products[k].end_s - products[k].start_s, k))
    prices = np.array([p.price_eur_mwh for p in products])
    chosen: list[int] = []
    for k in order:
        if chosen:
            g = gram[np.ix_(chosen, chosen)]
            coefficients = np.linalg.solve(g, gram[chosen, k])
            residual = gram[k, k] - float(gram[chosen, k] @ coefficients)
            if residual <= _DEPENDENT * gram[k, k]:
                implied = float(coefficients @ prices[chosen])
                if abs(implied - prices[k]) > tolerance:
                    names = [
                        products[c].name
                        for c, w in zip(chosen, coefficients, strict=True)
                        if abs(w) > 1e-9
                    ]
                    raise BuildError(
                        f"{products[k].name} at {prices[k]:.6f} contradicts {', '.join(names)}, "
                        f"which imply {implied:.6f}"
                    )
                continue
        chosen.append(k)
    return chosen


def _level(products: Sequence[Product], factors: FloatArray, origin_s: int) -> FloatArray:
    """The shape: factors scaled to the shortest base product over each hour."""
    shape = np.full(factors.size, np.nan)
    base = [p for p in products if p.load is Load.BASE]
    for p in sorted(base, key=lambda p: p.start_s - p.end_s):  # longest first, shorter overwrite
        i, j = (p.start_s - origin_s) // HOUR_S, (p.end_s - origin_s) // HOUR_S
        shape[i:j] = p.price_eur_mwh * factors[i:j] / factors[i:j].mean()
    if np.isnan(shape).any():
        gap = int(np.flatnonzero(np.isnan(shape))[0])
        first = datetime.fromtimestamp(origin_s + gap * HOUR_S, UTC).isoformat()
        p = products[0]
        raise BuildError(f"{p.commodity}/{p.market_area}: no base product covers {first}")
    return shape


def build_prices(
    products: Sequence[Product], factors: FloatArray, starts_s: IntArray, tolerance: float = 1e-9
) -> FloatArray:
    """The hourly prices over `starts_s` nearest the shaped levels whose product means are the
    product prices."""
    masks = _masks(products, starts_s)
    counts = masks.sum(axis=1)
    gram = (masks @ masks.T) / np.outer(counts, counts)
    keep = _independent(products, gram, tolerance)
    x = _level(products, factors, int(starts_s[0]))
    b = np.array([products[k].price_eur_mwh for k in keep])
    m, n, g = masks[keep], counts[keep], gram[np.ix_(keep, keep)]
    for _ in range(2):  # the second pass refines away rounding
        multipliers = np.linalg.solve(g, b - (m @ x) / n)
        x = x + (multipliers / n) @ m
    means = (masks @ x) / counts
    worst = int(np.argmax(np.abs(means - [p.price_eur_mwh for p in products])))
    if abs(means[worst] - products[worst].price_eur_mwh) > max(tolerance, 1e-9):
        raise BuildError(
            f"{products[worst].name}: the curve misses its price by {means[worst] - products[worst].price_eur_mwh:.3g}"
        )
    return np.asarray(x, dtype=np.float64)


def build_series(
    products: Sequence[Product],
    profile: ShapeProfile,
    as_of: datetime,
    *,
    step_s: int = HOUR_S,
    tolerance: float = 1e-9,
) -> CurveSeries:
    """The curve of one series from its products, hourly or quarter-hourly (flat in each hour)."""
    if not products or len({p.key for p in products}) != 1:
        raise BuildError("build one series at a time, from at least one product")
    commodity, area = products[0].key
    starts_s = grid(min(p.start_s for p in products), max(p.end_s for p in products), HOUR_S)
    prices = build_prices(
        products, shape_factors(profile, commodity, starts_s), starts_s, tolerance
    )
    if step_s == 900:
        prices = np.repeat(prices, HOUR_S // 900)
    elif step_s != HOUR_S:
        raise BuildError("the builder writes 15- or 60-minute curves")
    source = f"built from {len(products)} products"
    return CurveSeries(commodity, area, int(starts_s[0]), step_s, prices, as_of, source)


def build_curve_set(
    products: Sequence[Product],
    as_of: datetime,
    shapes: Mapping[Commodity, ShapeProfile] | None = None,
    *,
    step_s: int = HOUR_S,
    tolerance: float = 1e-9,
) -> CurveSet:
    """One series per (commodity, market area) among `products`; shapes default per commodity."""
    by_key: dict[SeriesKey, list[Product]] = {}
    for p in products:
        by_key.setdefault(p.key, []).append(p)
    series = {}
    for key, group in by_key.items():
        profile = (shapes or {}).get(key[0]) or default_shape(key[0])
        series[key] = build_series(group, profile, as_of, step_s=step_s, tolerance=tolerance)
    return CurveSet(series)
