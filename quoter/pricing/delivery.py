"""Delivery periods: the intervals and volumes an RFQ delivers, validated against the contract,
cached so a repeated product costs nothing, and split into delivery buckets for positions.

Constant-power loads (base, peak, off-peak) expand into contiguous blocks `[start_s, end_s)` of
whole hours, so a block's curve mean is two look-ups on the curve's prefix sums; a custom load
keeps its shape's volumes per interval. All arrays handed out are read-only.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from quoter.domain import Commodity, Instrument, Load, LoadShape, Rfq
from quoter.domain.market import AREAS
from quoter.pricing.calendar import (
    DAY_S,
    GAS_DAY_START_HOUR,
    HOUR_S,
    grid,
    local_seconds,
    peak_mask,
)
from quoter.pricing.reasons import Decline, ReasonCode

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
T = TypeVar("T")
G = TypeVar("G", bound=np.generic)

PeriodKey = tuple[Hashable, ...]

GAS_DAY_START_S = GAS_DAY_START_HOUR * HOUR_S
# Shape expansions kept: ~4M intervals is ~115 quarter-hourly years, a few hundred MB at most.
SHAPE_CACHE_INTERVALS = 4_000_000
_RESOLUTION_NAMES = {900: "PT15M", 3600: "PT1H"}


class DeliveryBucket(NamedTuple):
    """Where a position lives: commodity, market area and local delivery month `YYYY-MM`
    (for gas the month of the gas day, which starts at 06:00 local on the 1st)."""

    commodity: Commodity
    market_area: str
    month: str


@dataclass(frozen=True, slots=True, eq=False)
class Period:
    """The quantity-free expansion of a maturity and load, or of a load shape: what is cached.

    `key` names the content (commodity, load, maturity; a custom load adds its resolution and a
    digest of its volumes), so a price memoised by key is never confused with another period's.
    `volumes_mw` is None for a constant-power load; for a custom load it holds one volume per
    `step_s` interval from the maturity start. `month_weights` holds per local month the hours
    (constant load: multiply by MW) or the energy in MWh (custom load). `edge_hours` and
    `edge_signs` put the blocks' ends (+1) and starts (-1) in hours from the maturity start, so
    the sum over all blocks of a prefix-sum difference is one dot product; `single_block_hours`
    is the same for the common case of one block, as plain integers."""

    key: PeriodKey
    start_s: int
    end_s: int
    block_starts_s: IntArray
    block_ends_s: IntArray
    edge_hours: IntArray
    edge_signs: FloatArray
    single_block_hours: tuple[int, int] | None
    hours: float
    step_s: int
    volumes_mw: FloatArray | None
    volume_sum_mw: float
    month_weights: tuple[tuple[str, float], ...]


class Delivery(NamedTuple):
    """What one RFQ delivers: where, when, and how much. (A named tuple: built per RFQ on the
    hot path, where it costs a third of a frozen dataclass.)"""

    commodity: Commodity
    market_area: str
    load: Load
    start_s: int
    end_s: int
    quantity_mw: float
    period: Period

    @property
    def hours(self) -> float:
        """Delivery hours: the load's hours inside the maturity (custom: the maturity's)."""
        return self.period.hours

    @property
    def energy_mwh(self) -> float:
        period = self.period
        if period.volumes_mw is None:
            return self.quantity_mw * period.hours
        return period.volume_sum_mw * period.step_s / HOUR_S

    def buckets(self) -> tuple[tuple[DeliveryBucket, float], ...]:
        """The delivery's energy in MWh per delivery bucket, in month order."""
        scale = self.quantity_mw if self.period.volumes_mw is None else 1.0
        return tuple(
            (DeliveryBucket(self.commodity, self.market_area, month), weight * scale)
            for month, weight in self.period.month_weights
        )


_DELIVERY = tuple.__new__


def delivery_of(rfq: Rfq, shape: LoadShape | None = None) -> Delivery | Decline:
    """The delivery of a contract RFQ (with its load shape if custom), or why it has none."""
    return instrument_delivery(rfq.instrument, rfq.quantity_mw, shape)


def instrument_delivery(
    instrument: Instrument, quantity_mw: float, shape: LoadShape | None = None
) -> Delivery | Decline:
    """The delivery of `quantity_mw` of an instrument (a custom load takes its shape)."""
    commodity, area, load = instrument.commodity, instrument.market_area, instrument.load
    if load is Load.CUSTOM:
        if shape is None:
            return Decline(ReasonCode.SHAPE_MISSING, "a custom load needs its load shape")
        period = _shapes.get(shape, commodity, area, instrument.start, instrument.end)
    else:
        period = _maturity(commodity, area, load, instrument.start, instrument.end)
    if isinstance(period, Decline):
        return period
    # tuple.__new__ skips the generated keyword __new__: this runs once per RFQ.
    return _DELIVERY(
        Delivery, (commodity, area, load, period.start_s, period.end_s, quantity_mw, period)
    )


def _area_problem(commodity: Commodity, area: str) -> Decline | None:
    if area in AREAS[commodity]:
        return None
    return Decline(ReasonCode.UNKNOWN_AREA, f"{area!r} is not a {commodity} market area")


# Keyed by the instrument's own values, so a repeated product skips even the epoch conversions;
# the per-second caches below share one Period among the market areas.
@lru_cache(maxsize=8192)
def _maturity(
    commodity: Commodity, area: str, load: Load, start: datetime, end: datetime
) -> Period | Decline:
    return _area_problem(commodity, area) or constant_period(
        commodity, epoch_s(start), epoch_s(end), load
    )


class _ShapeCache:
    """Expansions of load shapes, bounded by the intervals held rather than by count: a shape
    object (~90 bytes an interval) is its own key, and a quarter-hourly year has 35,040."""

    def __init__(self, max_intervals: int) -> None:
        self._max = max_intervals
        self._held = 0
        self._entries: OrderedDict[Hashable, tuple[Period | Decline, int]] = OrderedDict()

    def get(
        self, shape: LoadShape, commodity: Commodity, area: str, start: datetime, end: datetime
    ) -> Period | Decline:
        key = (_Same(shape), commodity, area, start, end)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found[0]
        period = _area_problem(commodity, area) or _shaped_period(
            shape, commodity, epoch_s(start), epoch_s(end)
        )
        size = len(shape.starts)
        self._entries[key] = (period, size)
        self._held += size
        while self._held > self._max and len(self._entries) > 1:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._held -= dropped
        return period

    def clear(self) -> None:
        self._entries.clear()
        self._held = 0


_shapes = _ShapeCache(SHAPE_CACHE_INTERVALS)


def clear_caches() -> None:
    """Forget every cached expansion (benchmarks measure the cold path with this)."""
    for cached in (_maturity, constant_period):
        cached.cache_clear()
    _shapes.clear()


def epoch_s(instant: datetime) -> int:
    return round(instant.timestamp())


def iso(instant_s: int) -> str:
    return np.datetime_as_string(np.datetime64(instant_s, "s")) + "Z"


def _check_maturity(commodity: Commodity, start_s: int, end_s: int) -> Decline | None:
    if commodity is Commodity.GAS:
        local = local_seconds(np.array([start_s, end_s], dtype=np.int64)) % DAY_S
        for name, instant, at in (("start", start_s, local[0]), ("end", end_s, local[1])):
            if at != GAS_DAY_START_S:
                return Decline(
                    ReasonCode.BAD_MATURITY,
                    f"maturity {name} {iso(instant)} is not a gas-day boundary (06:00 local)",
                )
        return None
    for name, instant in (("start", start_s), ("end", end_s)):
        if instant % HOUR_S:
            return Decline(
                ReasonCode.BAD_MATURITY, f"maturity {name} {iso(instant)} is not on a whole hour"
            )
    return None


def _months(instants_s: IntArray, commodity: Commodity) -> IntArray:
    """Local months since 1970-01 (gas: of the gas day)."""
    local = local_seconds(instants_s)
    if commodity is Commodity.GAS:
        local = local - GAS_DAY_START_S
    return local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def _month_weights(
    instants_s: IntArray, weights: FloatArray, commodity: Commodity
) -> tuple[tuple[str, float], ...]:
    # Months counted from the first as bins: no sort and no strings but for the months present.
    months = _months(instants_s, commodity)
    first = int(months.min())
    present = np.flatnonzero(np.bincount(months - first))
    sums = np.bincount(months - first, weights=weights)
    return tuple((_month_name(first + int(m)), float(sums[m])) for m in present)


def _month_name(months_since_1970: int) -> str:
    year, month = divmod(months_since_1970, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def _read_only(array: npt.NDArray[G]) -> npt.NDArray[G]:
    array.setflags(write=False)
    return array


def _single_block_hours(starts: IntArray, ends: IntArray, start_s: int) -> tuple[int, int] | None:
    if starts.size != 1:
        return None
    return (int(starts[0]) - start_s) // HOUR_S, (int(ends[0]) - start_s) // HOUR_S


@lru_cache(maxsize=4096)
def constant_period(commodity: Commodity, start_s: int, end_s: int, load: Load) -> Period | Decline:
    """The blocks of a constant-power load over a maturity (cached)."""
    problem = _check_maturity(commodity, start_s, end_s)
    if problem is not None:
        return problem
    hours = grid(start_s, end_s, HOUR_S)
    if load is Load.PEAK:
        hours = hours[peak_mask(hours)]
    elif load is Load.OFF_PEAK:
        hours = hours[~peak_mask(hours)]
    if hours.size == 0:
        return Decline(
            ReasonCode.NO_DELIVERY_HOURS,
            f"{load} has no hours in {iso(start_s)}..{iso(end_s)}",
        )
    breaks = np.flatnonzero(np.diff(hours) != HOUR_S) + 1
    starts = hours[np.concatenate(([0], breaks))]
    ends = hours[np.concatenate((breaks - 1, [hours.size - 1]))] + HOUR_S
    weights = np.ones(hours.size, dtype=np.float64)
    return Period(
        key=(commodity, load, start_s, end_s),
        start_s=start_s,
        end_s=end_s,
        block_starts_s=_read_only(starts),
        block_ends_s=_read_only(ends),
        edge_hours=_read_only((np.concatenate((ends, starts)) - start_s) // HOUR_S),
        single_block_hours=_single_block_hours(starts, ends, start_s),
        edge_signs=_read_only(np.repeat([1.0, -1.0], starts.size)),
        hours=float(hours.size),
        step_s=HOUR_S,
        volumes_mw=None,
        volume_sum_mw=0.0,
        month_weights=_month_weights(hours, weights, commodity),
    )


class _Same(Generic[T]):
    """A cache key by identity: load shapes are large tuples, too slow to hash per RFQ. The
    cache holds the key, so the identity is not reused while it is cached."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def _shape_problem(starts: IntArray, step_s: int, start_s: int, end_s: int) -> str | None:
    resolution = _RESOLUTION_NAMES[step_s]
    if starts[0] < start_s or starts[-1] + step_s > end_s:
        bad = starts[0] if starts[0] < start_s else starts[-1]
        return (
            f"shape interval {iso(int(bad))} lies outside the maturity {iso(start_s)}..{iso(end_s)}"
        )
    off_grid = np.flatnonzero((starts - start_s) % step_s)
    if off_grid.size:
        return f"shape interval {iso(int(starts[off_grid[0]]))} is not on the {resolution} grid"
    expected = (end_s - start_s) // step_s
    if starts.size != expected:
        missing = np.flatnonzero(starts != start_s + step_s * np.arange(starts.size))
        first = start_s + step_s * int(missing[0] if missing.size else starts.size)
        return (
            f"shape has {starts.size} {resolution} intervals, the maturity has {expected}; "
            f"first missing {iso(first)}"
        )
    return None


def _shaped_period(
    shape: LoadShape, commodity: Commodity, start_s: int, end_s: int
) -> Period | Decline:
    problem = _check_maturity(commodity, start_s, end_s)
    if problem is not None:
        return problem
    step_s = shape.resolution_s
    # Whole seconds are exact in a float's 53 bits; map() spares a Python frame per interval.
    stamps = np.fromiter(map(datetime.timestamp, shape.starts), np.float64, len(shape.starts))
    starts = np.rint(stamps).astype(np.int64)
    detail = _shape_problem(starts, step_s, start_s, end_s)
    if detail is not None:
        return Decline(ReasonCode.SHAPE_MISMATCH, detail)
    volumes = np.array(shape.volumes_mw, dtype=np.float64)
    total = float(volumes.sum())
    if total <= 0:
        return Decline(ReasonCode.SHAPE_MISMATCH, "the load shape delivers no energy")
    digest = hashlib.blake2b(volumes.tobytes(), digest_size=16).digest()
    return Period(
        key=(commodity, Load.CUSTOM, start_s, end_s, step_s, digest),
        start_s=start_s,
        end_s=end_s,
        block_starts_s=_read_only(np.array([start_s], dtype=np.int64)),
        block_ends_s=_read_only(np.array([end_s], dtype=np.int64)),
        edge_hours=_read_only(np.array([(end_s - start_s) // HOUR_S, 0], dtype=np.int64)),
        edge_signs=_read_only(np.array([1.0, -1.0])),
        single_block_hours=(0, (end_s - start_s) // HOUR_S),
        hours=(end_s - start_s) / HOUR_S,
        step_s=step_s,
        volumes_mw=_read_only(volumes),
        volume_sum_mw=total,
        month_weights=_month_weights(starts, volumes * (step_s / HOUR_S), commodity),
    )
