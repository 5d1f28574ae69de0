"""Curves for a replay: a fixed curve set, or synthetic curves re-marked each trading day.

`DailyCurves` gives, for the clock's current local day, the synthetic curve set as of 07:00
that day with every series scaled by exp(sigma * W(day)), W a standard random walk in days
seeded by `seed`: prices move from day to day, reproducibly. The same object marks trades at
later curve dates (`at_day`), so the P&L at +1 and +5 days is marked on the walk's later curves.

The synthetic set depends only on its as-of's month (and seed): it is built once a month and
each day's set is that one re-stamped and scaled, the same curves a build per day gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from quoter.clock import Clock
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.synthetic import synthetic_curve_set

DAILY_SIGMA = 0.015  # 1.5% a day: front-month power vol of a quiet market


@dataclass(frozen=True, slots=True)
class StaticCurves:
    curves: CurveSet

    @property
    def current(self) -> CurveSet:
        return self.curves

    def at_day(self, day: date) -> CurveSet:
        return self.curves


@dataclass(slots=True)
class DailyCurves:
    clock: Clock | None
    origin: date
    seed: int = 0
    sigma: float = DAILY_SIGMA
    _cache: dict[date, CurveSet] = field(default_factory=dict)
    _months: dict[tuple[int, int], CurveSet] = field(default_factory=dict)
    # The current day's set and the instants (UTC: a comparison across time zones converts
    # both sides on every poll) its local day runs over: read on every poll.
    _today: tuple[datetime, datetime, CurveSet] | None = None

    @property
    def current(self) -> CurveSet:
        if self.clock is None:
            raise RuntimeError("DailyCurves without a clock has no current day")
        now = self.clock.now()
        today = self._today
        if today is not None and today[0] <= now < today[1]:
            return today[2]
        day = now.astimezone(MARKET_TIMEZONE).date()
        begins = datetime.combine(day, time(0), MARKET_TIMEZONE).astimezone(UTC)
        ends = datetime.combine(day + timedelta(days=1), time(0), MARKET_TIMEZONE).astimezone(UTC)
        found = self.at_day(day)
        self._today = (begins, ends, found)
        return found

    def at_day(self, day: date) -> CurveSet:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._build(day)
            if len(self._cache) > 64:
                del self._cache[min(self._cache)]
        return found

    def walk(self, day: date) -> float:
        days = (day - self.origin).days
        if days <= 0:
            return 0.0
        steps = np.random.default_rng([self.seed, 7]).standard_normal(days)
        return float(steps.sum())

    def _build(self, day: date) -> CurveSet:
        as_of = datetime.combine(day, time(7, 0), MARKET_TIMEZONE)
        base = self._months.get((day.year, day.month))
        if base is None:
            base = self._months[(day.year, day.month)] = synthetic_curve_set(as_of, seed=self.seed)
            if len(self._months) > 3:
                del self._months[min(self._months)]
        factor = float(np.exp(self.sigma * self.walk(day)))
        stamp = as_of.astimezone(UTC)
        return CurveSet({key: _scaled(s, factor, stamp) for key, s in base.items()})


def _scaled(series: CurveSeries, factor: float, as_of: datetime) -> CurveSeries:
    return CurveSeries(
        commodity=series.commodity,
        market_area=series.market_area,
        start_s=series.start_s,
        step_s=series.step_s,
        prices=series.prices * factor,
        as_of=as_of,
        source=f"{series.source} walk x{factor:.4f}",
    )


def local_day(moment: datetime, plus_days: int = 0) -> date:
    return moment.astimezone(MARKET_TIMEZONE).date() + timedelta(days=plus_days)
