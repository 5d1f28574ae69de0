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

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from quoter.domain.market import AREAS, Commodity, Load
from quoter.pricing.calendar import (
    DAY_S,
    GAS_DAY_START_HOUR,
    HOUR_S,
    grid,
    local_midnight_utc,
    local_seconds,
    peak_mask,
)
from quoter.pricing.curve import CurveError, CurveSeries, CurveSet, SeriesKey

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PRODUCT_COLUMNS = ("commodity", "market_area", "product", "load", "price")
SHAPE_COLUMNS = ("commodity", "month", "day_type", "hour", "factor")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LABEL = re.compile(r"^(?P<kind>cal|gy|sum|win|q[1-4]|[a-z]{3})-(?P<year>\d{2}|\d{4})$")
_DEPENDENT = 1e-10  # relative residual under which a product lies in the span of the others
_EPOCH_WEEKDAY = 3


class BuildError(CurveError):
    """Products that cannot make a curve: bad input, gaps, or prices that contradict each other."""


@dataclass(frozen=True, slots=True)
class Product:
    """A forward product's price over [start_s, end_s) (UTC epoch seconds), base or peak."""

    commodity: Commodity
    market_area: str
    label: str
    load: Load
    price_eur_mwh: float
    start_s: int
    end_s: int

    @property
    def key(self) -> SeriesKey:
        return (self.commodity, self.market_area)

    @property
    def name(self) -> str:
        return f"{self.commodity}/{self.market_area} {self.label} {self.load}"


def delivery_dates(label: str) -> tuple[date, date]:
    """The local delivery days [first, end) of `Cal-27`, `Q1-27`, `Sum-27` (Apr-Sep), `Win-27`
    (Oct 27-Mar 28), `GY-27` (Oct 27-Sep 28), `Jan-27`; four-digit years work too."""
    match = _LABEL.match(label.strip().lower())
    if match is None:
        raise BuildError(
            f"unknown product {label!r} (Cal-27, Q1-27, Sum-27, Win-27, GY-27, Jan-27)"
        )
    kind, year_text = match["kind"], match["year"]
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    first_month, months = {"cal": (1, 12), "gy": (10, 12), "sum": (4, 6), "win": (10, 6)}.get(
        kind, (0, 0)
    )
    if kind.startswith("q") and kind[1:].isdigit():
        first_month, months = 3 * int(kind[1:]) - 2, 3
    elif kind in _MONTHS:
        first_month, months = _MONTHS.index(kind) + 1, 1
    elif months == 0:
        raise BuildError(f"unknown product {label!r}")
    end_index = year * 12 + first_month - 1 + months
    return date(year, first_month, 1), date(end_index // 12, end_index % 12 + 1, 1)


def make_product(
    commodity: Commodity, market_area: str, label: str, load: Load, price_eur_mwh: float
) -> Product:
    """A product with its delivery period: power from local midnight, gas from 06:00 local."""
    if market_area not in AREAS[commodity]:
        raise BuildError(f"{label}: unknown {commodity} market area {market_area!r}")
    if load not in (Load.BASE, Load.PEAK) or (commodity is Commodity.GAS and load is Load.PEAK):
        raise BuildError(f"{commodity}/{market_area} {label}: load must be base or (power) peak")
    if not math.isfinite(price_eur_mwh):
        raise BuildError(f"{commodity}/{market_area} {label}: price must be finite")
    first, end = delivery_dates(label)
    hour = GAS_DAY_START_HOUR if commodity is Commodity.GAS else 0
    start_s = int(local_midnight_utc(first, hour).timestamp())
    end_s = int(local_midnight_utc(end, hour).timestamp())
    return Product(commodity, market_area, label, load, price_eur_mwh, start_s, end_s)


def _rows(text: str, source: str, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), skipinitialspace=True)
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise BuildError(f"{source}: missing column " + ", ".join(missing))
    for number, row in enumerate(reader, start=2):
        yield number, {c: (row[c] or "").strip() for c in columns}


def parse_products(text: str, source: str = "<products>") -> tuple[Product, ...]:
    """Products from CSV text: commodity,market_area,product,load,price (`#` starts a comment)."""
    products = []
    for number, row in _rows(text, source, PRODUCT_COLUMNS):
        try:
            price = float(row["price"])
            products.append(
                make_product(
                    Commodity(row["commodity"]),
                    row["market_area"],
                    row["product"],
                    Load(row["load"]),
                    price,
                )
            )
        except ValueError as error:  # BuildError is not one; bad enums and floats are
            raise BuildError(f"{source}, row {number}: {error}") from None
        except BuildError as error:
            raise BuildError(f"{source}, row {number}: {error}") from None
    return tuple(products)


# --- shape factors --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ShapeProfile:
    """Relative price by [month - 1, weekend (0 or 1), local hour]; gas uses each gas day's mean."""

    factors: FloatArray

    def __post_init__(self) -> None:
        factors = np.array(self.factors, dtype=np.float64)
        if factors.shape != (12, 2, 24) or not (np.isfinite(factors) & (factors > 0)).all():
            raise BuildError("shape factors must be 12 x 2 x 24 positive finite numbers")
        factors.setflags(write=False)
        object.__setattr__(self, "factors", factors)


def default_shape(commodity: Commodity) -> ShapeProfile:
    """A plain European profile: night trough, morning and evening peaks, a midday solar dip in
    summer, lower weekends, higher winters. Gas: seasonal and weekday only."""
    months = np.arange(12)
    winter = np.cos(2 * np.pi * months / 12)  # 1 in January, -1 in July
    if commodity is Commodity.GAS:
        level = 1.0 + 0.08 * winter
        factors = np.broadcast_to(level[:, None, None], (12, 2, 24)).copy()
        factors[:, 1, :] *= 0.97
        return ShapeProfile(factors)
    hours = np.arange(24)
    daily = (
        0.8
        + 0.25 * np.exp(-(((hours - 8.5) / 1.8) ** 2))
        + 0.4 * np.exp(-(((hours - 19) / 2.2) ** 2))
    )
    daily = daily + 0.15 * ((hours >= 7) & (hours < 21))
    solar = np.clip(-winter, 0, None)[:, None] * 0.3 * np.exp(-(((hours - 13) / 2.5) ** 2))[None, :]
    weekday = (1.0 + 0.12 * winter)[:, None] * daily[None, :] - solar
    weekend = 0.85 * ((1.0 + 0.12 * winter)[:, None] * (0.5 * daily + 0.5)[None, :] - solar)
    return ShapeProfile(np.stack([weekday, weekend], axis=1))


def parse_shape(text: str, source: str = "<shape>") -> dict[Commodity, ShapeProfile]:
    """Shape factors from CSV text: commodity,month,day_type(weekday|weekend),hour,factor; every
    commodity named needs all 576 rows."""
    tables: dict[Commodity, FloatArray] = {}
    seen: dict[Commodity, set[tuple[int, int, int]]] = {}
    for number, row in _rows(text, source, SHAPE_COLUMNS):
        try:
            commodity = Commodity(row["commodity"])
            month, hour, factor = int(row["month"]), int(row["hour"]), float(row["factor"])
            weekend = ("weekday", "weekend").index(row["day_type"])
            if not (1 <= month <= 12 and 0 <= hour <= 23):
                raise ValueError(f"month {month} or hour {hour} out of range")
        except ValueError as error:
            raise BuildError(f"{source}, row {number}: {error}") from None
        table = tables.setdefault(commodity, np.full((12, 2, 24), np.nan))
        table[month - 1, weekend, hour] = factor
        seen.setdefault(commodity, set()).add((month, weekend, hour))
    for commodity, cells in seen.items():
        if len(cells) != 12 * 2 * 24:
            raise BuildError(
                f"{source}: {commodity} needs a factor for every month, day type, hour"
            )
    try:
        return {commodity: ShapeProfile(table) for commodity, table in tables.items()}
    except BuildError as error:
        raise BuildError(f"{source}: {error}") from None


def shape_factors(profile: ShapeProfile, commodity: Commodity, starts_s: IntArray) -> FloatArray:
    """The factor of each hour; for gas the mean factor of its gas day, so gas is flat per day."""
    local = local_seconds(starts_s)
    if commodity is Commodity.GAS:
        local = local - GAS_DAY_START_HOUR * HOUR_S
    days = local // DAY_S
    weekend = ((days + _EPOCH_WEEKDAY) % 7 >= 5).astype(np.int64)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    if commodity is Commodity.GAS:
        daily: FloatArray = profile.factors.mean(axis=2)
        return np.asarray(daily[month, weekend], dtype=np.float64)
    hour = (local % DAY_S) // HOUR_S
    return np.asarray(profile.factors[month, weekend, hour], dtype=np.float64)


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
