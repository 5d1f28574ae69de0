"""Local time of the market areas, vectorised: UTC offsets, local hours, peak hours, gas days.

Every area the contract names keeps Central European Time with the EU summer-time rule (summer
time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October), so
offsets are computed by that rule on numpy arrays instead of one `zoneinfo` call per hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from quoter.domain.market import AREAS
from quoter.domain.market import MARKET_TIMEZONE as MARKET_TIMEZONE  # where it was first

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HOUR_S = 3600
DAY_S = 86400
PEAK_FIRST_HOUR = 8
PEAK_END_HOUR = 20
GAS_DAY_START_HOUR = 6
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is 0


def timezone_of(market_area: str) -> ZoneInfo:
    """The delivery time zone of a market area the contract knows."""
    if not any(market_area in areas for areas in AREAS.values()):
        raise ValueError(f"unknown market area {market_area!r}")
    return MARKET_TIMEZONE


def _last_sunday_01_utc(year: int, month: int) -> int:
    last = date(year, month, 31)
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    return int(datetime(sunday.year, sunday.month, sunday.day, 1, tzinfo=UTC).timestamp())


@lru_cache(maxsize=256)
def _summer_time_s(year: int) -> tuple[int, int]:
    return _last_sunday_01_utc(year, 3), _last_sunday_01_utc(year, 10)


def utc_offsets_s(instants_s: IntArray) -> IntArray:
    """The CET/CEST offset in seconds at each UTC instant."""
    instants = np.asarray(instants_s, dtype=np.int64)
    if instants.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = datetime.fromtimestamp(int(instants.min()), UTC).year
    last = datetime.fromtimestamp(int(instants.max()), UTC).year
    summer = np.zeros(instants.shape, dtype=bool)
    for year in range(first, last + 1):
        begin, end = _summer_time_s(year)
        summer |= (instants >= begin) & (instants < end)
    return np.where(summer, 2 * HOUR_S, HOUR_S).astype(np.int64)


def local_seconds(instants_s: IntArray) -> IntArray:
    """Seconds since the epoch on the local wall clock (for day, weekday and hour arithmetic)."""
    instants = np.asarray(instants_s, dtype=np.int64)
    return instants + utc_offsets_s(instants)


def local_weekday_and_hour(instants_s: IntArray) -> tuple[IntArray, IntArray]:
    """Local weekday (Monday 0) and local hour of each UTC instant."""
    local = local_seconds(instants_s)
    weekday = (local // DAY_S + _EPOCH_WEEKDAY) % 7
    hour = (local % DAY_S) // HOUR_S
    return weekday, hour


def peak_mask(instants_s: IntArray) -> BoolArray:
    """Peak: Monday to Friday, 08:00 to 20:00 local, public holidays included."""
    weekday, hour = local_weekday_and_hour(instants_s)
    mask: BoolArray = (weekday < 5) & (hour >= PEAK_FIRST_HOUR) & (hour < PEAK_END_HOUR)
    return mask


def grid(start_s: int, end_s: int, step_s: int) -> IntArray:
    """The interval starts of [start_s, end_s) every `step_s` seconds."""
    if (end_s - start_s) % step_s:
        raise ValueError(f"[{start_s}, {end_s}) is not a whole number of {step_s} s intervals")
    return np.arange(start_s, end_s, step_s, dtype=np.int64)


def local_midnight_utc(day: date, hour: int = 0) -> datetime:
    """The UTC instant of `hour`:00 local on `day` (06:00 starts a gas day)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=MARKET_TIMEZONE).astimezone(UTC)
