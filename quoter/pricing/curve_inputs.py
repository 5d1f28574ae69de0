"""What the curve builder is given: forward products (a label such as Cal-27, Q2-27 or Apr-27,
base or peak, and a price) and hourly shape profiles, parsed from CSV with each bad row named,
or made in code. Pure: no I/O."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from quoter.domain.market import AREAS, Commodity, Load
from quoter.pricing.calendar import (
    DAY_S,
    GAS_DAY_START_HOUR,
    HOUR_S,
    local_midnight_utc,
    local_seconds,
)
from quoter.pricing.curve import CurveError, SeriesKey

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PRODUCT_COLUMNS = ("commodity", "market_area", "product", "load", "price")
SHAPE_COLUMNS = ("commodity", "month", "day_type", "hour", "factor")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LABEL = re.compile(r"^(?P<kind>cal|gy|sum|win|q[1-4]|[a-z]{3})-(?P<year>\d{2}|\d{4})$")
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
