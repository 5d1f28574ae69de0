"""The engine against the real sandbox over loopback: its overhead per RFQ, how fast a kill
withdraws everything, and a whole trading day on an accelerated clock with the default plan.

Overhead runs on an unlimited plan with 20 ms polling, the sandbox in a process of its own, so
that neither the usage plan, the polling cadence nor the sandbox's own work is measured: it is
the time from the poll page holding an RFQ being parsed (`OpenRfq.seen_at_s`) to its quote
request being handed to the venue client (a timing proxy around `HttpVenue.submit_quote`; the
client's guard and the HTTP round trip come after). Kills and the day run the sandbox in-process
on the engine's own clock.

The day's share: of the RFQs that arrived in the session, the eligible ones are all but those
declined for a reason outside the engine (the strategy cannot price it, a desk limit, the market
closed) and those the requester cancelled before any quote; quoted means a quote of ours was
stored at the sandbox before the RFQ's deadline.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import contains
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.engine_setup import (
    BenchEngine,
    Controls,
    Endpoint,
    LogTally,
    engine_config,
    eventually,
    percentiles_ms,
    roomy_risk,
    running_engine,
    sandbox_process,
    tallied_logs,
)
from quoter.clock import ScaledClock
from quoter.engine.killswitch import Kill
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.reasons import PRICING_CODES, RISK_CODES, DeclineCode
from quoter.pricing.synthetic import synthetic_curve_set
from quoter.risk.config import DEMO_RISK
from quoter.sandbox.config import MarketConfig, SandboxConfig
from quoter.sandbox.reference import curve_reference
from quoter.sandbox.server import RunningSandbox, run_sandbox
from quoter.venue.config import UsagePlanConfig

START = datetime(2026, 3, 2, 10, 0, tzinfo=MARKET_TIMEZONE)  # a Monday, trading hours
CURVES = synthetic_curve_set(START)
OPEN_RFQS = 500
STEADY_RFQS = 200
UNLIMITED_PLAN: dict[str, Any] = {"rate_per_s": 1e6, "burst": 1_000_000, "daily_quota": 10**9}

KILL_QUOTES = 50
KILL_REPEATS = 20
FAILING_SHARE = 0.2
QUIET_S = 15.0  # between the last quote and the kill: the buckets refill, as in a real day

DAY_OPEN = datetime(2026, 3, 3, 8, 0, tzinfo=MARKET_TIMEZONE)  # a Tuesday
DAY_CLOSE = DAY_OPEN.replace(hour=18)
DAY_SPEED = 240.0
DAY_AFTER_CLOSE = timedelta(minutes=2)
ARRIVALS_PER_MIN = 2.0
STATUS_EVERY_S = 3.0
# Declines that are not the engine's doing: the strategy cannot price it, a desk limit refuses
# it, or the market is closed.
OUTSIDE_ENGINE = PRICING_CODES | RISK_CODES | {DeclineCode.MARKET_CLOSED, DeclineCode.NOT_OPEN}


def sandbox_config(**overrides: Any) -> SandboxConfig:
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "start": START,
        "market": MarketConfig(enabled=False),
    }
    return SandboxConfig(**(fields | overrides))


def month_ahead(deadline: datetime) -> dict[str, Any]:
    """A DE base Apr-26 RFQ (inside the synthetic curves and the demo collar)."""
    return {
        "instrument": {
            "load": "base",
            "maturity": {"start": "2026-03-31T22:00:00.000Z", "end": "2026-04-30T22:00:00.000Z"},
            "product": {"type": "month", "label": "Apr-26"},
        },
        "quote-deadline": deadline.isoformat(),
    }


# -- overhead -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phases:
    """Per RFQ, in seconds: seen -> pricing starts -> request handed to the client."""

    queued: list[float]
    priced: list[float]
    total: list[float]


def phases(bot: BenchEngine, rfq_ids: Sequence[str]) -> Phases:
    seen = {r.rfq.id: r.seen_at_s for r in bot.desk.rfqs}
    sent = bot.venue.submitted_at
    priced = bot.strategy.priced_at
    ids = [i for i in rfq_ids if i in seen and i in sent and i in priced]
    return Phases(
        queued=[priced[i] - seen[i] for i in ids],
        priced=[sent[i] - priced[i] for i in ids],
        total=[sent[i] - seen[i] for i in ids],
    )


def print_phases(label: str, found: Phases, acked: Sequence[float]) -> None:
    print(f"overhead ({label}): {percentiles_ms(found.total)}")
    print(f"  seen -> pricing starts (queue, gate):        {percentiles_ms(found.queued)}")
    print(
        f"  pricing starts -> request leaves (price, risk, audit fsync): "
        f"{percentiles_ms(found.priced)}"
    )
    print(f"  seen -> quote acknowledged (+ guard, HTTP round trip): {percentiles_ms(acked)}")


async def overhead() -> None:
    """500 RFQs open at once (one poll), then one more at a time while those 500 stay open."""
    config = sandbox_config(rate_per_s=1e6, burst=1_000_000, daily_quota=10**9)
    deadline = START + timedelta(minutes=30)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        engine = engine_config(workdir, poll={"min_interval_s": 0.02})
        risk = roomy_risk(2 * (OPEN_RFQS + STEADY_RFQS))
        async with sandbox_process(config) as venue, Controls.open(venue.base_url) as controls:
            burst_ids = [await controls.new_rfq(**month_ahead(deadline)) for _ in range(OPEN_RFQS)]
            async with running_engine(
                venue, workdir, config=engine, risk=risk, curves=CURVES, plan=UNLIMITED_PLAN
            ) as bot:
                await eventually(lambda: bot.desk.stats.quotes_sent == OPEN_RFQS, "500 quotes")
                acked = list(bot.desk.stats.seen_to_sent_s)
                print_phases(f"{OPEN_RFQS} RFQs in one poll", phases(bot, burst_ids), acked)
                await one_at_a_time(bot, controls, deadline)
    print(
        "  (sandbox in its own process; unlimited plan; 20 ms polling; "
        f"{engine.quoting.workers} quote workers; audit on {tempfile.gettempdir()})"
    )


async def one_at_a_time(bot: BenchEngine, controls: Controls, deadline: datetime) -> None:
    """New RFQs, each quoted before the next arrives, while the first 500 stay open."""
    steady_ids = []
    for _ in range(STEADY_RFQS):
        rfq_id = await controls.new_rfq(**month_ahead(deadline))
        steady_ids.append(rfq_id)
        await eventually(functools.partial(contains, bot.venue.submitted_at, rfq_id), "quote")
    want = OPEN_RFQS + STEADY_RFQS
    await eventually(lambda: bot.desk.stats.quotes_sent == want, "every quote")
    acked = list(bot.desk.stats.seen_to_sent_s)[OPEN_RFQS:]
    label = f"{OPEN_RFQS} RFQs open, a new one arrives"
    print_phases(label, phases(bot, steady_ids), acked)


# -- kill -> every quote withdrawn --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KillCase:
    failing: int  # withdrawal requests answered 503
    quiet_s: float  # between the last quote acknowledged and the kill
    target_s: float

    def describe(self) -> str:
        faults = (
            f"{self.failing} of {KILL_QUOTES} withdrawals failing (503)"
            if self.failing
            else "no faults"
        )
        when = "right after quoting them" if not self.quiet_s else f"{self.quiet_s:g} s later"
        return f"{faults}, killed {when}"


KILL_CASES = (
    KillCase(0, QUIET_S, 2.0),
    KillCase(round(KILL_QUOTES * FAILING_SHARE), QUIET_S, 5.0),
    KillCase(0, 0.0, 2.0),
)


async def kill_once(workdir: Path, case: KillCase) -> float:
    """Seconds from the kill until the sandbox holds no live quote of ours."""
    async with (
        run_sandbox(sandbox_config()) as sandbox,
        Controls.open(sandbox.base_url) as controls,
    ):
        deadline = START + timedelta(minutes=30)
        for _ in range(KILL_QUOTES):
            await controls.new_rfq(**month_ahead(deadline))
        config = engine_config(workdir)
        risk = roomy_risk(2 * KILL_QUOTES)
        async with running_engine(
            Endpoint.of(sandbox), workdir, config=config, risk=risk, curves=CURVES
        ) as bot:
            await eventually(lambda: sandbox.state.live_quotes() == KILL_QUOTES, "50 live quotes")
            sandbox.clock.advance(case.quiet_s)
            if case.failing:
                await controls.fault(
                    kind="status", status=503, count=case.failing, path="/quotes/", method="DELETE"
                )
            started = time.perf_counter()
            bot.engine.kill(Kill(reason="benchmark", by="bench", at=sandbox.clock.now()))
            await eventually(lambda: sandbox.state.live_quotes() == 0, "every quote withdrawn")
            elapsed = time.perf_counter() - started
            await eventually(lambda: bot.desk.stats.withdrawn == KILL_QUOTES, "our count")
            await check_clean(controls, case.failing)
    return elapsed


async def check_clean(controls: Controls, failing: int) -> None:
    seen = await controls.counters()
    injected = seen["faults-injected"].get("status", 0)
    if seen["rate-limited"] or seen["duplicate-live"] or injected != failing:
        raise AssertionError(
            f"429s {seen['rate-limited']}, duplicate live {seen['duplicate-live']}, "
            f"failures injected {injected} of {failing}"
        )


async def kill_to_withdrawn() -> None:
    for case in KILL_CASES:
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            for repeat in range(KILL_REPEATS):
                times.append(await kill_once(Path(tmp) / str(repeat), case))
        p50, p99 = np.percentile(times, [50, 99])
        verdict = "ok" if p99 < case.target_s else "OVER TARGET"
        print(
            f"kill -> all {KILL_QUOTES} withdrawn, {case.describe()}: p50 {p50:.3f} s, "
            f"p99 {p99:.3f} s, max {max(times):.3f} s "
            f"(n={len(times)}; target p99 < {case.target_s:g} s: {verdict})"
        )
    print(
        "  (in-process sandbox, default plan 10/s, burst 100; default engine and client config; "
        "a fresh sandbox and engine each time; 'later': the clock moved on, buckets refilled)"
    )


# -- a full trading day -------------------------------------------------------------------------


def status_line(bot: BenchEngine, clock: ScaledClock) -> str:
    at = clock.now().astimezone(MARKET_TIMEZONE)
    stats = bot.desk.stats
    spent = bot.venue.guard_state().spent_today
    return (
        f"\r[day] {at:%H:%M} Berlin  requests {spent:5d}  quotes sent {stats.quotes_sent:4d}  "
        f"RFQs seen {stats.rfqs_seen:4d}  plan {bot.engine.last_plan.reason:<6}"
    )


async def follow_day(bot: BenchEngine, clock: ScaledClock, until: datetime) -> None:
    while (left_s := (until - clock.now()).total_seconds()) > 0:
        print(status_line(bot, clock), end="", file=sys.stderr, flush=True)
        await asyncio.sleep(min(STATUS_EVERY_S, left_s / clock.speed))
    print(status_line(bot, clock), file=sys.stderr, flush=True)


def audit_records(directory: Path) -> list[dict[str, Any]]:
    return [
        orjson.loads(line)
        for path in sorted(directory.glob("audit-*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


@dataclass(frozen=True, slots=True)
class DayOutcome:
    arrived: int
    excluded: Counter[str]
    quoted: int
    missed: Counter[str]

    @property
    def eligible(self) -> int:
        return self.quoted + sum(self.missed.values())


def classify(sandbox: RunningSandbox, records: list[dict[str, Any]]) -> DayOutcome:
    """Every RFQ that arrived in the session: quoted, excluded (why), or missed (why)."""
    seen = {r["rfq"]["id"] for r in records if r["kind"] == "rfq"}
    declines: dict[str, list[str]] = {}
    for r in records:
        if r["kind"] == "decline":
            declines.setdefault(r["rfq-id"], []).append(r["reason"])
    quoted = {q.rfq_id for q in sandbox.state.quotes.values()}
    excluded: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    arrived = [s for s in sandbox.state.rfqs.values() if DAY_OPEN <= s.rfq.created_at < DAY_CLOSE]
    for sim in arrived:
        reasons = declines.get(sim.id, [])
        outside = [r for r in reasons if r in OUTSIDE_ENGINE]
        if sim.id in quoted:
            continue
        if outside:
            excluded[outside[0]] += 1
        elif sim.rfq.status.value == "cancelled":
            excluded["cancelled by the requester"] += 1
        elif reasons:
            missed[reasons[0]] += 1
        else:
            missed["seen, no quote" if sim.id in seen else "never seen"] += 1
    return DayOutcome(len(arrived), excluded, len(quoted & {s.id for s in arrived}), missed)


def print_day(
    counters: dict[str, Any], ledger_spent: int, bot: BenchEngine, outcome: DayOutcome
) -> None:
    plan = UsagePlanConfig()
    venue_spent = sum(counters["quota-spent"].values())
    ceiling = plan.daily_quota - plan.withdraw_reserve_daily
    intact = "intact" if max(venue_spent, ledger_spent) <= ceiling else "BREACHED"
    stats = bot.desk.stats
    print(
        f"day: requests spent {venue_spent} (sandbox) / {ledger_spent} (our ledger) of "
        f"{plan.daily_quota}; withdrawal reserve {intact} (spent <= {ceiling})"
    )
    print(
        f"day: 429s {counters['rate-limited'] + counters['quota-exceeded']} "
        f"(too many requests {counters['rate-limited']}, limit exceeded "
        f"{counters['quota-exceeded']}); polls {counters['by-route'].get('GET /rfqs', 0)}; "
        f"duplicate live quotes {counters['duplicate-live']}"
    )
    excluded = ", ".join(f"{k} {v}" for k, v in outcome.excluded.most_common())
    missed = ", ".join(f"{k} {v}" for k, v in outcome.missed.most_common()) or "none"
    share = outcome.quoted / outcome.eligible if outcome.eligible else float("nan")
    print(
        f"day: RFQs arrived {outcome.arrived}, seen {stats.rfqs_seen}, "
        f"eligible {outcome.eligible}, quoted before the deadline {outcome.quoted}: "
        f"{share:.1%} of eligible"
    )
    print(f"  not eligible (not the engine's doing): {excluded}")
    print(f"  eligible but not quoted: {missed}")
    print(
        f"  quotes {stats.quotes_sent}, requotes {stats.requotes_sent}, won {stats.won}, "
        f"lost {stats.lost}, expired {stats.expired}, withdrawn {stats.withdrawn}, "
        f"kills {[k.reason for k in bot.deps.killswitch.kills]}"
    )


async def trading_day() -> None:
    clock = ScaledClock(start=DAY_OPEN, speed=DAY_SPEED)
    curves = synthetic_curve_set(DAY_OPEN)
    config = sandbox_config(
        start=DAY_OPEN, speed=DAY_SPEED, market=MarketConfig(arrivals_per_min=ARRIVALS_PER_MIN)
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        engine = engine_config(workdir)
        reference = curve_reference(curves)
        async with (
            run_sandbox(config, clock=clock, reference_price=reference) as sandbox,
            Controls.open(sandbox.base_url) as controls,
        ):
            async with running_engine(
                Endpoint.of(sandbox), workdir, config=engine, risk=DEMO_RISK, curves=curves
            ) as bot:
                await follow_day(bot, clock, DAY_CLOSE + DAY_AFTER_CLOSE)
                live_after_close = sandbox.state.live_quotes()
            counters = await controls.counters()
            outcome = classify(sandbox, audit_records(engine.audit_dir))
        print_day(counters, bot.venue.guard_state().spent_today, bot, outcome)
    print(
        f"  (08:00-18:00 Berlin on {DAY_OPEN:%a %Y-%m-%d}, clock x{DAY_SPEED:g}: "
        f"{time.perf_counter() - started:.0f} s real; {ARRIVALS_PER_MIN:g} RFQs/min; default "
        f"plan, engine config and demo limits; live quotes 2 min after the close: "
        f"{live_after_close})"
    )


# Errors the benchmarks cause on purpose.
EXPECTED_ERRORS = frozenset({"kill by %s: %s"})


def print_log_errors(tally: LogTally) -> None:
    for line in tally.errors(EXPECTED_ERRORS):
        print(f"  ENGINE ERROR LOGGED: {line}")


def run() -> None:
    started = time.perf_counter()
    for part in (overhead, kill_to_withdrawn, trading_day):
        with tallied_logs() as tally:
            asyncio.run(part())
        print_log_errors(tally)
    print(f"(engine benchmark: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    run()
