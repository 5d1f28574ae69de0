"""Forward curves as read-only values: one series per (commodity, market area) on a regular grid.

A series keeps the running sum of its prices, so the mean over any block of intervals is two
look-ups; strategies receive these values and never read files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from quoter.domain.market import Commodity

FloatArray = npt.NDArray[np.float64]
SeriesKey = tuple[Commodity, str]


class CurveError(Exception):
    """A curve that cannot be used, or a delivery it does not cover."""


def _read_only(values: npt.ArrayLike) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, eq=False)
class CurveSeries:
    """Prices of one series: interval i starts at `start_s + i * step_s` (epoch seconds, UTC)."""

    commodity: Commodity
    market_area: str
    start_s: int
    step_s: int
    prices: FloatArray
    as_of: datetime
    source: str
    cumulative: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.step_s not in (900, 3600):
            raise CurveError(f"{self.source}: resolution must be 15 or 60 minutes")
        prices = _read_only(self.prices)
        if prices.ndim != 1 or prices.size == 0:
            raise CurveError(f"{self.source}: a series needs at least one price")
        if not np.isfinite(prices).all():
            raise CurveError(f"{self.source}: prices must be finite")
        if self.as_of.tzinfo is None:
            raise CurveError(f"{self.source}: as_of must be timezone-aware")
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "cumulative", _read_only(np.concatenate(([0.0], prices.cumsum()))))

    @property
    def key(self) -> SeriesKey:
        return (self.commodity, self.market_area)

    @property
    def end_s(self) -> int:
        """The end of the last interval (exclusive)."""
        return self.start_s + self.step_s * int(self.prices.size)

    def index(self, instant_s: int) -> int:
        """The interval index at which `instant_s` starts; it must lie on the grid."""
        offset = instant_s - self.start_s
        if offset % self.step_s:
            raise CurveError(f"{self.source}: {instant_s} is not on the curve's grid")
        return offset // self.step_s

    def mean(self, start_s: int, end_s: int) -> float:
        """Time-weighted mean price over [start_s, end_s), which the series must cover."""
        if not self.start_s <= start_s < end_s <= self.end_s:
            raise CurveError(
                f"{self.commodity}/{self.market_area}: delivery "
                f"{_iso(start_s)}..{_iso(end_s)} is outside the curve "
                f"{_iso(self.start_s)}..{_iso(self.end_s)}"
            )
        i, j = self.index(start_s), self.index(end_s)
        return float((self.cumulative[j] - self.cumulative[i]) / (j - i))


def _iso(instant_s: int) -> str:
    return datetime.fromtimestamp(instant_s, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, eq=False)
class CurveSet(Mapping[SeriesKey, CurveSeries]):
    """The curves the bot prices from, by (commodity, market area), with an id that names the
    content so a decision can say which curves it used."""

    series: Mapping[SeriesKey, CurveSeries]
    id: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for key in sorted(self.series):
            s = self.series[key]
            digest.update(f"{key}|{s.start_s}|{s.step_s}|{s.as_of.isoformat()}".encode())
            digest.update(s.prices.tobytes())
        object.__setattr__(self, "series", dict(self.series))
        object.__setattr__(self, "id", digest.hexdigest()[:16])

    def __getitem__(self, key: SeriesKey) -> CurveSeries:
        return self.series[key]

    def __iter__(self) -> Iterator[SeriesKey]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    def oldest_as_of(self) -> datetime | None:
        return min((s.as_of for s in self.series.values()), default=None)
