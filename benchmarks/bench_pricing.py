"""Pricing throughput: 10,000 mixed RFQs (base, peak, off-peak, custom; one day to three years;
power and gas areas) through `CurveSpread.price` on one core, against a straightforward pandas
implementation of the same formula, whose prices must agree."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

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
from quoter.strategies_api import Decline, MarketSnapshot, evaluate
from strategies.curve_spread import CurveSpread

RFQ_COUNT = 10_000
PANDAS_SAMPLE = 200
DISTINCT_SHAPES = 200  # custom RFQs reuse this many load shapes (the shape cache keeps 512)
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

    began = time.perf_counter()
    decisions = [strategy.price(c.rfq, c.market) for c in cases]
    cold_s = time.perf_counter() - began
    declines = sum(isinstance(d, Decline) for d in decisions)
    assert declines == 0, [d for d in decisions if isinstance(d, Decline)][:3]

    best_s = min(_timed(lambda: [strategy.price(c.rfq, c.market) for c in cases]) for _ in range(5))
    core_rate = RFQ_COUNT / best_s
    safe_s = min(
        _timed(lambda: [evaluate(strategy, c.rfq, c.market) for c in cases]) for _ in range(3)
    )

    sample = rng.sample(range(RFQ_COUNT), PANDAS_SAMPLE)
    frames = pandas_curves(curves)
    began = time.perf_counter()
    reference = [pandas_mid(cases[i], frames) for i in sample]
    pandas_rate = PANDAS_SAMPLE / (time.perf_counter() - began)
    got = np.array([_mid(decisions[i]) for i in sample])
    np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-9)

    kinds = {load: sum(c.rfq.instrument.load is load for c in cases) for load in Load}
    print(f"rfqs: {RFQ_COUNT} ({', '.join(f'{k} {n}' for k, n in kinds.items())})")
    print(f"first pass, caches cold: {RFQ_COUNT / cold_s:,.0f} RFQs/s")
    print(f"strategy.price, warm:    {core_rate:,.0f} RFQs/s (target >= 100,000)")
    print(f"evaluate(strategy, ...): {RFQ_COUNT / safe_s:,.0f} RFQs/s")
    print(f"pandas reference:        {pandas_rate:,.0f} RFQs/s ({PANDAS_SAMPLE} RFQs)")
    print(f"ratio:                   {core_rate / pandas_rate:,.0f}x (target >= 200x)")
    print(f"prices agree with pandas on {PANDAS_SAMPLE} RFQs (rtol 1e-9)")


def _timed(work: object) -> float:
    assert callable(work)
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def _mid(decision: object) -> float:
    assert not isinstance(decision, Decline)
    return float(decision.mid)  # type: ignore[attr-defined]


if __name__ == "__main__":
    run()
