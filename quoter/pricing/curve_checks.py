"""Is a well-formed curve plausible? Pure checks of one series against the commodity's band,
the curve date against now, and the prices against the last good version of the series.

The syntax (curve_files.py) cannot see a file in the wrong unit: an export in EUR/kWh parses,
and the collar and drift checks measure against that same curve. These checks can.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np

from quoter.domain.market import AREAS, Commodity
from quoter.pricing.config import CurveBand, CurvesConfig
from quoter.pricing.curve import CurveSeries, SeriesKey
from quoter.pricing.curve_files import (
    CurveLoad,
    Finding,
    RefusalReason,
    SeriesVet,
    load_curve_set,
)

JUMP_FLOOR_EUR_MWH = 1.0  # a month's mean near zero moves by any share: measure from this


def plausibility(
    config: CurvesConfig, last_good: Mapping[SeriesKey, CurveSeries], now: datetime
) -> SeriesVet:
    """The vet a load at `now` applies to each series, given the last good version of each."""

    def vet(series: CurveSeries) -> Finding | None:
        band = config.band_for(series.commodity, series.market_area)
        return (
            check_as_of(series, now, config.max_as_of_ahead_s)
            or check_level(series, band)
            or check_jump(series, last_good.get(series.key), config.max_jump_share)
        )

    return vet


def load_vetted(path: Path, now: datetime, config: CurvesConfig | None = None) -> CurveLoad:
    """A curve file or folder read as the bot reads it at `now`: every series through the same
    plausibility checks (unit, band, a date ahead of `now`), for the offline commands (`quoter
    price`, `curves check`, a backtest's `--curves`), so that none of them prices from a curve
    the bot would refuse. Offline there is no last good version: no jump check."""
    return load_curve_set(path, plausibility(config or CurvesConfig(), {}, now))


def check_as_of(series: CurveSeries, now: datetime, tolerance_s: float) -> Finding | None:
    ahead_s = (series.as_of - now).total_seconds()
    if ahead_s <= tolerance_s:
        return None
    message = (
        f"as_of {_iso(series.as_of)} is {ahead_s:.0f} s after now ({_iso(now)}); "
        f"at most {tolerance_s:.0f} s is allowed"
    )
    return Finding(RefusalReason.FUTURE_AS_OF, "as_of", message)


def check_level(series: CurveSeries, band: CurveBand) -> Finding | None:
    prices = series.prices
    outside = (prices < band.min_eur_mwh) | (prices > band.max_eur_mwh)
    name = f"{series.commodity}/{series.market_area}"
    if outside.any():
        i = int(np.argmax(outside))
        message = (
            f"price {prices[i]:g} EUR/MWh at {_iso_s(series.start_s + i * series.step_s)} is "
            f"outside the plausible band of {name} [{band.min_eur_mwh:g}, {band.max_eur_mwh:g}]"
        )
        return Finding(RefusalReason.IMPLAUSIBLE_LEVEL, "price", message, i)
    mean = float(series.cumulative[-1]) / prices.size
    if mean < band.min_mean_eur_mwh:
        hint = ": is the file in EUR/kWh?" if mean >= 0 else ""
        message = (
            f"mean price {mean:.4g} EUR/MWh over {prices.size} intervals is below the plausible "
            f"{band.min_mean_eur_mwh:g} for {name}{hint}"
        )
        return Finding(RefusalReason.IMPLAUSIBLE_LEVEL, "price", message)
    return None


def check_jump(series: CurveSeries, last: CurveSeries | None, max_share: float) -> Finding | None:
    """The first delivery month (UTC) both versions cover whose mean moved by more than
    `max_share` of the last good version's."""
    if last is None:
        return None
    start_s = _ceil_hour(max(series.start_s, last.start_s))
    end_s = min(series.end_s, last.end_s) // 3600 * 3600
    if end_s <= start_s:
        return None
    for a, b in _months(start_s, end_s):
        new, old = series.mean(a, b), last.mean(a, b)
        share = abs(new - old) / max(abs(old), JUMP_FLOOR_EUR_MWH)
        if share > max_share:
            month = _iso_s(a)[:7]
            message = (
                f"the {month} mean moved to {new:.4g} EUR/MWh from {old:.4g} in the last good "
                f"version (as_of {_iso(last.as_of)}): {share:.0%} > {max_share:.0%}"
            )
            return Finding(RefusalReason.JUMP, "price", message, series.index(a))
    return None


def expected_series(allowed_areas: frozenset[str]) -> frozenset[SeriesKey]:
    """The series a desk trading `allowed_areas` needs: one per area, of its commodity."""
    return frozenset(
        (commodity, area)
        for commodity in Commodity
        for area in AREAS[commodity]
        if area in allowed_areas
    )


def _months(start_s: int, end_s: int) -> list[tuple[int, int]]:
    """[start_s, end_s) cut at each UTC month start; both ends on the hour."""
    first = np.datetime64(start_s, "s").astype("datetime64[M]") + 1
    last = np.datetime64(end_s, "s").astype("datetime64[M]")
    cuts = [int(m.astype("datetime64[s]").astype(np.int64)) for m in np.arange(first, last + 1)]
    edges = [start_s, *(c for c in cuts if start_s < c < end_s), end_s]
    return list(pairwise(edges))


def _ceil_hour(instant_s: int) -> int:
    return -(-instant_s // 3600) * 3600


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _iso_s(instant_s: int) -> str:
    return _iso(datetime.fromtimestamp(instant_s, UTC))
