"""Metrics: the size of one scrape of a busy bot, the time to build it, and what metrics add
to the hot path of one RFQ, as a ratio of that path's own cost, all in one run.

The hot path pays only for bucket counts (a bisect and two additions per observation) and two
clock reads per timed audit write; everything else is read at scrape time.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from prometheus_client import generate_latest

from benchmarks.bench_pricing import _cases, _curves
from quoter.audit.events import Event, Unknown
from quoter.basics.usage import GuardState, Lane
from quoter.domain.market import Commodity
from quoter.engine.audit import JsonlAudit
from quoter.engine.config import EngineConfig
from quoter.engine.curve_watch import CurveStore
from quoter.engine.desk import Desk
from quoter.engine.hours import TradingCalendar
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import EngineDeps, StrategySlot
from quoter.engine.stats import Samples
from quoter.metrics.audit import TimedAudit
from quoter.metrics.collector import build_registry
from quoter.pricing.delivery import DeliveryBucket
from quoter.pricing.reasons import DeclineCode
from quoter.pricing.synthetic import synthetic_curve_set
from quoter.risk.config import DEMO_RISK
from quoter.strategies_api import evaluate
from quoter.venue.stats import VenueStats
from strategies.curve_spread import CurveSpread

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
N = 200_000
ENDPOINTS = ("authenticate", "list_rfqs", "get_rfq", "get_load_shape", "submit_quote",
             "withdraw_quote", "list_quotes", "list_trades")  # fmt: skip
STATUSES = ("200", "201", "204", "404", "429", "503", "timeout")
# Per RFQ quoted: observations on the hot path (pricing, seen→sent, created→ack), audit
# records (rfq, quote-intent, quote-answer) and venue requests (its share of a poll, submit).
SAMPLES_PER_RFQ, AUDITS_PER_RFQ, REQUESTS_PER_RFQ = 3, 3, 2


class _Quota:
    def guard_state(self) -> GuardState:
        left = {lane: 4000 for lane in Lane}
        return GuardState(
            day=date(2026, 3, 2),
            spent_today=1234,
            daily_quota=5000,
            exhausted=False,
            left_today=left,
            tokens_now=77.0,
            tokens_free={lane: 50.0 for lane in Lane},
            waiting={lane: 0 for lane in Lane},
            resets_at=datetime(2026, 3, 3, tzinfo=UTC),
        )

    def ledger_failsafe(self) -> str | None:
        return None

    def poll_allowance(self) -> tuple[date, int]:
        return date(2026, 3, 2), 4000


class _NoAudit:
    def write(self, event: Event | Unknown, at: datetime, *, durable: bool = False) -> None:
        return None

    def keeps(self, kind: type[Event]) -> bool:
        return True  # as the trail: the engine builds every event it would


def _per_call_s(work: Callable[[], object], n: int = N) -> float:
    started = time.perf_counter()
    for _ in range(n):
        work()
    return (time.perf_counter() - started) / n


def busy_context(tmp: Path) -> tuple[EngineDeps, Desk, VenueStats]:
    """A bot after a busy day: every decline reason, every endpoint and status, 180 positions."""
    config = EngineConfig.model_validate({"audit_dir": tmp / "audit"})
    deps = EngineDeps(
        venue=cast(Any, _Quota()),  # the collector reads only the quota, never calls the venue
        clock=cast(Any, type("Fixed", (), {"now": staticmethod(lambda: NOW)})()),
        config=config,
        risk=DEMO_RISK,
        curves=CurveStore(None, initial=synthetic_curve_set(NOW - timedelta(hours=3))),
        calendar=TradingCalendar(config.hours),
        killswitch=KillSwitch(None),
        audit=_NoAudit(),
        run_id="bench",
    )
    desk = Desk(DEMO_RISK, StrategySlot("curve-spread", CurveSpread()))
    rng = random.Random(1)
    reasons = list(DeclineCode)
    for reason in reasons:
        desk.stats.declined[str(reason)] += rng.randint(1, 500)
    for samples in (desk.stats.pricing_s, desk.stats.seen_to_sent_s, desk.stats.created_to_ack_s):
        for _ in range(5000):
            samples.append(rng.expovariate(100.0))
    venue = VenueStats()
    for endpoint in ENDPOINTS:
        for status in STATUSES:
            for _ in range(50):
                venue.count_request("POLL", endpoint, status, seconds=rng.expovariate(20.0))
    areas = [(Commodity.POWER, a) for a in ("DE", "FR", "NL")] + [
        (Commodity.GAS, a) for a in ("THE", "TTF")
    ]
    for commodity, area in areas:
        for month in range(36):
            bucket = DeliveryBucket(commodity, area, f"{2026 + month // 12}-{month % 12 + 1:02d}")
            desk.book._positions[bucket] = rng.uniform(-5000, 5000)  # a filled book, for size
    return deps, desk, venue


def scrape_figures(deps: EngineDeps, desk: Desk, venue: VenueStats, audit: TimedAudit) -> None:
    registry = build_registry(deps, desk, venue, audit)
    body = generate_latest(registry)
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    scrape_s = _per_call_s(lambda: generate_latest(registry), 200)
    print(f"scrape: {len(body):,} bytes, {series} series, built in {scrape_s * 1000:.2f} ms")
    print(f"  ({len(desk.book.positions_mwh)} position buckets, {len(desk.stats.declined)} decline "
          f"reasons, {len(ENDPOINTS)} endpoints x {len(STATUSES)} statuses)")  # fmt: skip


def hot_path_figures(tmp: Path) -> None:
    plain: deque[float] = deque(maxlen=10_000)
    samples = Samples()
    sample_s = _per_call_s(lambda: samples.append(0.004)) - _per_call_s(lambda: plain.append(0.004))
    bare = _NoAudit()
    timed = TimedAudit(bare, time.perf_counter)
    event = Unknown("rfq", {"rfq-id": "r-1"})
    audit_s = _per_call_s(lambda: timed.write(event, NOW)) - _per_call_s(
        lambda: bare.write(event, NOW)
    )
    stats = VenueStats()
    request_s = _per_call_s(
        lambda: stats.count_request("POLL", "list_rfqs", 200, seconds=0.01)
    ) - _per_call_s(lambda: stats.count_request("POLL", "list_rfqs", 200))
    overhead_s = (
        SAMPLES_PER_RFQ * sample_s + AUDITS_PER_RFQ * audit_s + REQUESTS_PER_RFQ * request_s
    )

    # The same RFQ's own work in this process: the strategy's decision (warm caches, as in a
    # steady day) and its audit records written to a real JSONL file, without fsync or network.
    rng = random.Random(20260302)
    cases = _cases(_curves(np.random.default_rng(7)), rng)[:2000]
    strategy = CurveSpread()
    for c in cases:
        evaluate(strategy, c.rfq, c.market)
    index = iter(range(10**9))
    decide_s = _per_call_s(lambda: evaluate(strategy, *_case(cases, next(index))), 20_000)
    jsonl = JsonlAudit(tmp / "hot")
    write_s = _per_call_s(lambda: jsonl.record("rfq", NOW, {"rfq-id": "r-1", "x": 1.0}), 20_000)
    jsonl.close()
    path_s = decide_s + AUDITS_PER_RFQ * write_s
    print(f"hot path per RFQ: metrics {overhead_s * 1e6:.2f} us "
          f"({SAMPLES_PER_RFQ} observations at {sample_s * 1e9:.0f} ns, {AUDITS_PER_RFQ} timed "
          f"audit writes at {audit_s * 1e9:.0f} ns, {REQUESTS_PER_RFQ} timed requests at "
          f"{request_s * 1e9:.0f} ns)")  # fmt: skip
    print(f"  of the RFQ's own {path_s * 1e6:.1f} us (decision {decide_s * 1e6:.1f} us + "
          f"{AUDITS_PER_RFQ} buffered audit writes; no network, no fsync): "
          f"ratio {overhead_s / path_s:.4f} ({overhead_s / path_s:.2%})")  # fmt: skip


def _case(cases: list[Any], i: int) -> tuple[Any, Any]:
    c = cases[i % len(cases)]
    return c.rfq, c.market


def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        deps, desk, venue = busy_context(tmp)
        audit = TimedAudit(_NoAudit(), time.perf_counter)
        for durable in (False, True):
            audit.write(Unknown("rfq", {}), NOW, durable=durable)
        scrape_figures(deps, desk, venue, audit)
        hot_path_figures(tmp)


if __name__ == "__main__":
    run()
