"""Synthetic tapes: the sandbox's own RFQ generator (products, sizes, two-way share, competing
dealers around the curve's price, cancellations) over the trading hours of `days` days, with the
outcome drivers filled in: the best competing price on the requester's side, sometimes a
requester limit, and the curve's price as the reference. Seeded: same arguments, same tape."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pandas as pd

from quoter.backtest.curves import DailyCurves
from quoter.backtest.tape import TapeRfq, tape_frame
from quoter.domain import Action
from quoter.engine.hours import TradingCalendar, TradingHoursConfig
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.sandbox.config import MarketConfig
from quoter.sandbox.generate import build_rfq, random_dealers, random_spec
from quoter.sandbox.reference import curve_reference

SAMPLE_START = date(2026, 3, 2)
LIMIT_SHARE = 0.3


def synthetic_tape(
    days: int,
    *,
    start: date = SAMPLE_START,
    per_min: float = 2.0,
    seed: int = 7,
    market: MarketConfig | None = None,
    max_rfqs: int | None = None,
) -> pd.DataFrame:
    """A tape of `days` calendar days from `start`, RFQs arriving (Poisson, `per_min`) while the
    DE market is open, at most `max_rfqs` of them; no custom loads (they would need load-shape
    side files)."""
    config = market or MarketConfig(custom_share=0.0)  # arrivals: `per_min` below
    calendar = TradingCalendar(TradingHoursConfig())
    curves = DailyCurves(None, start, seed=0)
    rng = random.Random(f"tape/{seed}")
    entries: list[TapeRfq] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not calendar.is_trading_day("DE", day):
            continue
        reference = curve_reference(curves.at_day(day))
        opens = datetime.combine(day, time(8, 0), MARKET_TIMEZONE)
        closes = datetime.combine(day, time(17, 50), MARKET_TIMEZONE)
        at = opens + timedelta(seconds=rng.expovariate(per_min / 60))
        while at < closes and (max_rfqs is None or len(entries) < max_rfqs):
            entries.append(_entry(rng, at, config, reference))
            at += timedelta(seconds=round(rng.expovariate(per_min / 60), 3))
    return tape_frame(entries)


def _entry(rng: random.Random, at: datetime, config: MarketConfig, reference: object) -> TapeRfq:
    spec = random_spec(rng, at, config)
    sim = build_rfq(spec, rng, at, reference, random_dealers(rng, config))  # type: ignore[arg-type]
    side = spec.requester_side
    fair = reference(spec.instrument, None)  # type: ignore[operator]
    competitor = sim.best_ask if side is Action.BUY else sim.best_bid
    limit = None
    if rng.random() < LIMIT_SHARE:
        slack = abs(fair) * rng.uniform(0.002, 0.02)
        limit = round(fair + slack if side is Action.BUY else fair - slack, 2)
    return TapeRfq(
        rfq=sim.rfq,
        shape=None,
        requester_side=side,
        competitor_price=competitor,
        requester_limit=limit,
        reference_price=float(fair),
        cancel_at=sim.cancel_at,
    )
