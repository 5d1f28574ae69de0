"""Pricing throughput: 10,000 mixed RFQs (base, peak, off-peak, custom; one day to three years;
power and gas areas) through `CurveSpread.price` on one core, against a straightforward pandas
implementation of the same formula, whose prices must agree.

Pricing memoises expansions and valuations per product, so the figures say how much the mix
repeats: cold is a pass with every cache cleared first (each distinct product is expanded and
valued once, its repeats hit), new-products-only is one RFQ per distinct product with the caches
cleared (every RFQ a miss), warm is a pass after the caches hold the whole mix. Both sides are
timed the same way, best of several passes. The engine prices one RFQ at a time and drops the
decision after sending and auditing it, so the passes do the same; a pass that keeps all 10,000
decisions in a list is shown too (it pays for the garbage collector walking them).
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from quoter.backtest.segments import Quoted, fit_segments
from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    LoadShape,
    MyQuoteStatus,
    ProductType,
    QuoteType,
    Rfq,
    RfqStatus,
)
from quoter.pricing.calendar import MARKET_TIMEZONE, grid, local_midnight_utc
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.delivery import Delivery, clear_caches, delivery_of
from quoter.pricing.valuation import clear_valuation_cache
from quoter.pricing.winfit import WinFit, write_fit
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    QuoteDecision,
    evaluate,
    load_strategy,
)
from strategies.curve_spread import CurveSpread

RFQ_COUNT = 10_000
PANDAS_SAMPLE = 200
WARM_PASSES, COLD_PASSES, PANDAS_PASSES = 5, 3, 3
DISTINCT_SHAPES = 200  # custom RFQs reuse this many load shapes
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
AREAS = [(Commodity.POWER, a) for a in ("DE", "FR", "NL", "AT")] + [
    (Commodity.GAS, a) for a in ("THE", "TTF")
]
CURVE_FIRST, CURVE_LAST = date(2025, 12, 1), date(2032, 1, 1)


@dataclass(frozen=True, slots=True)
class Case:
    rfq: Rfq
    market: MarketSnapshot


def _curves(rng: np.random.Generator) -> CurveSet:
    start_s = int(local_midnight_utc(CURVE_FIRST).timestamp())
    starts = grid(start_s, int(local_midnight_utc(CURVE_LAST).timestamp()), 3600)
    series = {}
    for commodity, area in AREAS:
        daily = 25 * np.sin(starts / 3600 * 2 * np.pi / 24)
        prices = 70 + daily + rng.normal(0, 8, starts.size)
        s = CurveSeries(commodity, area, start_s, 3600, prices, NOW, f"bench:{area}")
        series[s.key] = s
    return CurveSet(series)


def _period(rng: random.Random, gas: bool) -> tuple[date, date]:
    year = rng.choice((2026, 2027, 2028))
    month = rng.randint(1, 12)
    kinds = ("day", "week", "month", "quarter", "year", "3y")
    kind = rng.choices(kinds, (30, 10, 25, 15, 15, 5))[0]
    if kind == "day":
        first = date(year, month, rng.randint(1, 28))
        first -= timedelta(days=max(0, first.weekday() - 4))  # a weekday: peak has hours
        return first, first + timedelta(days=1)
    if kind == "week":
        first = date(year, month, 1) + timedelta(days=7 * rng.randint(0, 3))
        first -= timedelta(days=first.weekday())
        return first, first + timedelta(days=7)
    if kind == "month":
        return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    if kind == "quarter":
        q = (month - 1) // 3
        return date(year, 3 * q + 1, 1), date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    if gas and kind == "year":
        return date(year, 10, 1), date(year + 1, 10, 1)
    return date(year, 1, 1), date(year + (3 if kind == "3y" else 1), 1, 1)


def _shape(start: datetime, end: datetime, rng: random.Random) -> LoadShape:
    count = int((end - start).total_seconds()) // 3600
    level = rng.uniform(5, 30)
    hourly = level * (1 + 0.4 * np.sin(np.arange(count) * 2 * np.pi / 24 + rng.random()))
    starts = tuple(start + timedelta(hours=i) for i in range(count))
    return LoadShape(3600, starts, tuple(float(v) for v in hourly))


def _rfq(i: int, instrument: Instrument, rng: random.Random) -> Rfq:
    two_way = rng.random() < 0.3
    return Rfq(
        id=f"rfq-{i}",
        short_id=f"RQ-{i}",
        venue="entender",
        status=RfqStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
        quote_deadline=NOW + timedelta(minutes=10),
        requester_id=rng.choice(("c-1", "c-2", "c-3")),
        requester_name="bench",
        action=None if two_way else rng.choice((Action.BUY, Action.SELL)),
        quote_type=QuoteType.TWO_WAY if two_way else QuoteType.ONE_WAY,
        instrument=instrument,
        quantity_mw=rng.choice((1.0, 5.0, 10.0, 25.0, 50.0)),
        shape_ref="bench" if instrument.load is Load.CUSTOM else None,
        currency="EUR",
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )


def _cases(curves: CurveSet, rng: random.Random) -> list[Case]:
    shapes: dict[tuple[Commodity, datetime, datetime], LoadShape] = {}
    plain = MarketSnapshot(curves=curves, now=NOW)
    cases = []
    for i in range(RFQ_COUNT):
        commodity, area = rng.choice(AREAS)
        gas = commodity is Commodity.GAS
        first, last = _period(rng, gas)
        hour = 6 if gas else 0
        start, end = local_midnight_utc(first, hour), local_midnight_utc(last, hour)
        loads = (Load.BASE, Load.CUSTOM) if gas else tuple(Load)
        load = rng.choices(loads, (85, 15) if gas else (45, 25, 15, 15))[0]
        if load is Load.CUSTOM and (last - first).days > 366:
            load = Load.BASE
        instrument = Instrument(
            commodity, area, load, "physical", start, end, ProductType.CUSTOM, "bench"
        )
        market = plain
        if load is Load.CUSTOM:
            key = (commodity, start, end)
            if len(shapes) >= DISTINCT_SHAPES and key not in shapes:
                key = rng.choice(sorted(k for k in shapes if k[0] is commodity))
                _, start, end = key
            if key not in shapes:
                shapes[key] = _shape(start, end, rng)
            instrument = Instrument(
                commodity, area, load, "physical", start, end, ProductType.CUSTOM, "bench"
            )
            market = MarketSnapshot(curves=curves, now=NOW, shape=shapes[key])
        cases.append(Case(_rfq(i, instrument, rng), market))
    return cases


def pandas_curves(curves: CurveSet) -> dict[tuple[Commodity, str], pd.Series]:
    """The curves as pandas series on UTC hours, built once (not timed)."""
    return {
        key: pd.Series(
            s.prices,
            index=pd.date_range(
                pd.Timestamp(s.start_s, unit="s", tz="UTC"), periods=s.prices.size, freq="h"
            ),
        )
        for key, s in curves.items()
    }


def pandas_mid(case: Case, curves: dict[tuple[Commodity, str], pd.Series]) -> float:
    """The same formula the straightforward way: local hours from pandas, the curve by label."""
    instrument = case.rfq.instrument
    curve = curves[(instrument.commodity, instrument.market_area)]
    hours = pd.date_range(instrument.start, instrument.end, freq="h", inclusive="left").tz_convert(
        MARKET_TIMEZONE
    )
    volumes = pd.Series(case.rfq.quantity_mw, index=hours)
    if instrument.load is Load.PEAK or instrument.load is Load.OFF_PEAK:
        peak = (hours.dayofweek < 5) & (hours.hour >= 8) & (hours.hour < 20)
        volumes = volumes[peak if instrument.load is Load.PEAK else ~peak]
    elif instrument.load is Load.CUSTOM:
        shape = case.market.shape
        assert shape is not None
        volumes = pd.Series(shape.volumes_mw, index=pd.DatetimeIndex(shape.starts))
    prices = curve.loc[pd.DatetimeIndex(volumes.index).tz_convert("UTC")].to_numpy()
    return float((volumes.to_numpy() * prices).sum() / volumes.sum())


def run() -> None:
    rng = random.Random(20260302)
    curves = _curves(np.random.default_rng(7))
    cases = _cases(curves, rng)
    strategy = CurveSpread()
    price = strategy.price

    def stream(chosen: Sequence[Case]) -> None:
        for c in chosen:
            price(c.rfq, c.market)

    firsts = _first_of_each_product(cases)
    cold_rate = _rate(lambda: stream(cases), len(cases), COLD_PASSES, before=_clear)
    new_rate = _rate(lambda: stream(firsts), len(firsts), COLD_PASSES, before=_clear)
    _clear()
    cold = [price(c.rfq, c.market) for c in cases]
    assert not any(isinstance(d, Decline) for d in cold), [d for d in cold if not _quoted(d)][:3]
    warm_rate = _rate(lambda: stream(cases), len(cases), WARM_PASSES)
    kept_rate = _rate(lambda: [price(c.rfq, c.market) for c in cases], len(cases), WARM_PASSES)
    safe_rate = _rate(lambda: [evaluate(strategy, c.rfq, c.market) for c in cases], len(cases), 3)
    warm = [price(c.rfq, c.market) for c in cases]
    assert warm == cold, "a cached decision differs from the one computed afresh"

    sample = [cases[i] for i in rng.sample(range(RFQ_COUNT), PANDAS_SAMPLE)]
    frames = pandas_curves(curves)
    reference = [pandas_mid(c, frames) for c in sample]
    pandas_rate = _rate(lambda: [pandas_mid(c, frames) for c in sample], len(sample), PANDAS_PASSES)
    got = [_mid(price(c.rfq, c.market)) for c in sample]
    np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-9)

    periods, valuations = _distinct(cases)
    kinds = {load: sum(c.rfq.instrument.load is load for c in cases) for load in Load}
    two_way = sum(c.rfq.quote_type is QuoteType.TWO_WAY for c in cases)
    print(
        f"rfqs: {RFQ_COUNT} ({', '.join(f'{k} {n}' for k, n in kinds.items())}; two-way {two_way})"
    )
    print(
        f"distinct periods: {periods} of {RFQ_COUNT} "
        f"({valuations} distinct (area, period) valuations; custom RFQs share "
        f"{DISTINCT_SHAPES} load shapes)"
    )
    print(f"strategy cold: {cold_rate:,.0f} RFQs/s (caches cleared before each pass)")
    print(f"strategy cold, new products only: {new_rate:,.0f} RFQs/s ({len(firsts)} RFQs)")
    print(f"strategy warm: {warm_rate:,.0f} RFQs/s (target >= 100,000)")
    print(f"strategy warm, decisions kept: {kept_rate:,.0f} RFQs/s (all {RFQ_COUNT} in a list)")
    print(f"evaluate(strategy, ...) warm: {safe_rate:,.0f} RFQs/s")
    print(f"pandas reference: {pandas_rate:,.0f} RFQs/s ({PANDAS_SAMPLE} RFQs, curves pre-built)")
    print(f"ratio warm: {warm_rate / pandas_rate:,.0f}x (target 200x)")
    print(f"ratio warm, decisions kept: {kept_rate / pandas_rate:,.0f}x")
    print(f"ratio cold: {cold_rate / pandas_rate:,.0f}x")
    print(f"ratio cold, new products only: {new_rate / pandas_rate:,.0f}x")
    print(f"prices agree with pandas on {PANDAS_SAMPLE} RFQs (rtol 1e-9)")
    print("warm (cached) decisions equal cold (computed) ones on all RFQs")
    _win_curve(cases, warm_rate, safe_rate)


def _win_curve(cases: Sequence[Case], spread_rate: float, spread_safe_rate: float) -> None:
    """win_curve on the same RFQs, warm, from a fit by segment of a simulated flow on them; its
    cost per RFQ against curve_spread's is the ratio of their rates."""
    with tempfile.TemporaryDirectory() as tmp:
        fit = Path(tmp) / "win-fit.json"
        write_fit(_simulated_fit(cases), fit)
        strategy = load_strategy("win_curve", {"fit": str(fit)})
    price = strategy.price
    quoted = [price(c.rfq, c.market) for c in cases]
    assert all(_quoted(d) for d in quoted), [d for d in quoted if not _quoted(d)][:3]
    rate = _rate(lambda: [price(c.rfq, c.market) for c in cases], len(cases), WARM_PASSES)
    safe = _rate(lambda: [evaluate(strategy, c.rfq, c.market) for c in cases], len(cases), 3)
    print(f"win_curve warm: {rate:,.0f} RFQs/s; evaluate(win_curve, ...) warm: {safe:,.0f} RFQs/s")
    print(
        f"cost per RFQ, win_curve / curve_spread: {spread_rate / rate:.2f}x "
        f"(through evaluate: {spread_safe_rate / safe:.2f}x)"
    )


def _simulated_fit(cases: Sequence[Case]) -> WinFit:
    rng = random.Random(17)
    quoted = []
    for c in cases:
        markup = rng.uniform(0.0, 2.0)
        instrument = c.rfq.instrument
        quoted.append(
            Quoted(
                instrument.commodity.value,
                instrument.market_area,
                (instrument.start - NOW).total_seconds() / 86400,
                c.rfq.quantity_mw,
                c.rfq.action is None,
                c.rfq.requester_id,
                markup,
                rng.random() < 1 / (1 + math.exp(-0.5 + 2.0 * markup)),
            )
        )
    return fit_segments(quoted, source="bench: simulated", created_at=NOW)


def _clear() -> None:
    clear_caches()
    clear_valuation_cache()


def _rate(
    work: Callable[[], object], count: int, passes: int, before: Callable[[], None] | None = None
) -> float:
    """RFQs per second over the fastest of `passes` runs of `work` (after one untimed run)."""
    work()
    best_s = float("inf")
    for _ in range(passes):
        if before is not None:
            before()
        began = time.perf_counter()
        work()
        best_s = min(best_s, time.perf_counter() - began)
    return count / best_s


def _deliveries(cases: Sequence[Case]) -> list[Delivery]:
    deliveries = [delivery_of(c.rfq, c.market.shape) for c in cases]
    return [d for d in deliveries if isinstance(d, Delivery)]


def _distinct(cases: Sequence[Case]) -> tuple[int, int]:
    """Distinct delivery periods (load and maturity; custom: the shape) and (area, period)s."""
    deliveries = _deliveries(cases)
    periods = {d.period.key for d in deliveries}
    return len(periods), len({(d.market_area, d.period.key) for d in deliveries})


def _first_of_each_product(cases: Sequence[Case]) -> list[Case]:
    """The first RFQ of each distinct (area, period): what a cold cache must price afresh."""
    firsts: dict[object, Case] = {}
    for case, d in zip(cases, _deliveries(cases), strict=True):
        firsts.setdefault((d.market_area, d.period.key), case)
    return list(firsts.values())


def _quoted(decision: Decision) -> bool:
    return isinstance(decision, QuoteDecision)


def _mid(decision: Decision) -> float:
    assert isinstance(decision, QuoteDecision), decision
    return decision.mid


if __name__ == "__main__":
    run()
