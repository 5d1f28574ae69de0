from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quoter.pricing.calendar import (
    MARKET_TIMEZONE,
    grid,
    local_midnight_utc,
    peak_mask,
    utc_offsets_s,
)


def _hours(first: date, last: date) -> np.ndarray:
    start = int(local_midnight_utc(first).timestamp())
    end = int(local_midnight_utc(last).timestamp())
    return grid(start, end, 3600)


def test_published_hour_counts_for_berlin() -> None:
    assert _hours(date(2026, 1, 1), date(2027, 1, 1)).size == 8760
    assert int(peak_mask(_hours(date(2026, 1, 1), date(2027, 1, 1))).sum()) == 3132
    assert _hours(date(2026, 3, 1), date(2026, 4, 1)).size == 743
    assert _hours(date(2026, 10, 1), date(2026, 11, 1)).size == 745
    assert _hours(date(2026, 1, 1), date(2026, 4, 1)).size == 2159


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31)))
def test_offsets_match_zoneinfo(moment: datetime) -> None:
    instant = moment.replace(tzinfo=UTC)
    expected = instant.astimezone(MARKET_TIMEZONE).utcoffset()
    assert expected is not None
    got = utc_offsets_s(np.array([int(instant.timestamp())]))[0]
    assert got == int(expected.total_seconds())


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31)))
def test_peak_mask_matches_local_wall_clock(moment: datetime) -> None:
    instant = moment.replace(tzinfo=UTC, minute=0, second=0, microsecond=0)
    local = instant.astimezone(MARKET_TIMEZONE)
    expected = local.weekday() < 5 and 8 <= local.hour < 20
    assert bool(peak_mask(np.array([int(instant.timestamp())]))[0]) == expected


def test_gas_day_starts_at_six_local() -> None:
    start = local_midnight_utc(date(2026, 3, 29), hour=6)
    end = local_midnight_utc(date(2026, 3, 30), hour=6)
    assert start == datetime(2026, 3, 29, 4, tzinfo=UTC)
    assert end - start == timedelta(hours=24)
