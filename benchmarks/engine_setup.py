"""What the engine benchmarks share: the real engine wired to a real sandbox over loopback (the
same wiring as `quoter.app.open_bot`), thin timing wrappers around its venue and strategy, the
sandbox's controls, and the decision alone (what a replay's speed is measured against)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import numpy as np

from quoter.backtest.tape import Tape
from quoter.basics.usage import GuardState
from quoter.clock import Clock, ScaledClock
from quoter.domain import LoadShape, Page, Quote, QuoteRequest, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.engine.audit import JsonlAudit
from quoter.engine.build import build_engine
from quoter.engine.config import EngineConfig
from quoter.engine.curve_watch import CurveStore
from quoter.engine.decide import proposal_of, risk_declined
from quoter.engine.desk import Desk, empty_book
from quoter.engine.engine import Engine
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import EngineDeps, StrategySlot
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.pricing.curve import CurveSet
from quoter.pricing.delivery import Delivery, delivery_of
from quoter.pricing.reasons import Decline
from quoter.risk import checks
from quoter.risk.config import DEMO_RISK, RiskConfig
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.credentials import generate_credentials
from quoter.sandbox.server import RunningSandbox, run_sandbox
from quoter.strategies_api import (
    Decision,
    MarketSnapshot,
    QuoteDecision,
    Strategy,
    evaluate,
    load_strategy,
)
from quoter.venue.config import UsagePlanConfig, VenueConfig, VenueCredentials
from quoter.venue.http import HttpVenue

STRATEGY = "curve_spread"


class TimedVenue:
    """The HTTP venue, noting (on the engine's clock) when each RFQ's first quote request is
    handed to the client: the moment the request leaves the engine."""

    def __init__(self, inner: HttpVenue, clock: Clock) -> None:
        self.inner = inner
        self._clock = clock
        self.submitted_at: dict[str, float] = {}

    def guard_state(self) -> GuardState:
        return self.inner.guard_state()

    def ledger_failsafe(self) -> str | None:
        return self.inner.ledger_failsafe()

    def poll_allowance(self) -> tuple[date, int]:
        return self.inner.poll_allowance()

    def rate_limited_answers(self, window_s: float) -> tuple[int, int]:
        return self.inner.rate_limited_answers(window_s)

    async def list_rfqs(
        self,
        *,
        status: RfqStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Rfq]:
        return await self.inner.list_rfqs(
            status=status, updated_since=updated_since, limit=limit, skip=skip
        )

    async def get_rfq(self, rfq_id: str) -> Rfq:
        return await self.inner.get_rfq(rfq_id)

    async def get_load_shape(self, rfq_id: str) -> LoadShape:
        return await self.inner.get_load_shape(rfq_id)

    async def submit_quote(self, request: QuoteRequest) -> Quote:
        self.submitted_at.setdefault(request.rfq_id, self._clock.monotonic())
        return await self.inner.submit_quote(request)

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        await self.inner.withdraw_quote(rfq_id, quote_id)

    async def list_quotes(
        self,
        *,
        status: QuoteStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
        for_withdrawal: bool = False,
    ) -> Page[Quote]:
        return await self.inner.list_quotes(
            status=status,
            updated_since=updated_since,
            limit=limit,
            skip=skip,
            for_withdrawal=for_withdrawal,
        )

    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]:
        return await self.inner.list_trades(
            traded_from=traded_from, traded_to=traded_to, limit=limit, skip=skip
        )


@dataclass(frozen=True, slots=True)
class TimedStrategy:
    """A strategy noting when pricing of each RFQ begins (in the engine's pricing thread)."""

    inner: Strategy
    clock: Clock
    priced_at: dict[str, float] = field(default_factory=dict)

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        self.priced_at.setdefault(rfq.id, self.clock.monotonic())
        return self.inner.price(rfq, market)


def roomy_risk(quotes: int) -> RiskConfig:
    """The demo's limits, with room for `quotes` open quotes at once (count, rate, credit,
    position), so that the figures measure the engine and not a limit."""
    return DEMO_RISK.model_copy(
        update={
            "max_open_quotes": quotes,
            "max_quotes_per_minute": quotes * 2,
            "credit_limit_eur": 1e15,
            "max_position_mwh": 1e15,
            "fill_throttle_count": max(quotes, 1),  # dense tapes fill fast: not the figure's point
        }
    )


class DayCurves(Protocol):
    def at_day(self, day: date) -> CurveSet: ...


def decide_all(tape: Tape, risk: RiskConfig, curves: DayCurves, strategy: str = STRATEGY) -> int:
    """Each RFQ of `tape` through the decision as the engine's pipeline makes it (strategy,
    delivery, risk checks against the book, the book's reservation), on the curves of its day,
    and released again as if its RFQ ended unfilled; returns how many would be quoted."""
    chosen = load_strategy(strategy, {})
    book = empty_book(risk)
    start, quoted = tape.start, 0
    for entry in tape:
        rfq = entry.rfq
        now = rfq.created_at
        now_s = (now - start).total_seconds()
        day = now.astimezone(MARKET_TIMEZONE).date()
        market = MarketSnapshot(curves.at_day(day), now, book.positions_mwh, shape=entry.shape)
        decision = evaluate(chosen, rfq, market)
        if not isinstance(decision, QuoteDecision):
            continue
        delivery = delivery_of(rfq, market.shape)
        assert isinstance(delivery, Delivery), "a priced RFQ has a delivery"
        proposal = proposal_of(rfq, decision, delivery, market.curves)
        if isinstance(proposal, Decline):
            continue
        series = market.curves.get((rfq.instrument.commodity, rfq.instrument.market_area))
        age_s = (now - series.as_of).total_seconds() if series else float("inf")
        book.settle(now)
        verdict = checks.check(risk, book.view(proposal, now_s=now_s, curve_age_s=age_s), proposal)
        book.record_mid(proposal, now_s)
        if risk_declined(verdict) is None:
            book.reserve(proposal, now_s)
            book.release(rfq.id)
            quoted += 1
    return quoted


def engine_config(workdir: Path, **sections: Any) -> EngineConfig:
    """The default engine configuration, its files under `workdir`; override whole sections."""
    return EngineConfig.model_validate(
        {
            "kill": {"latch_path": workdir / "kill.json"},
            "audit_dir": workdir / "audit",
            **sections,
        }
    )


@dataclass(slots=True)
class BenchEngine:
    engine: Engine
    venue: TimedVenue
    strategy: TimedStrategy
    stop: asyncio.Event

    @property
    def desk(self) -> Desk:
        return self.engine.desk

    @property
    def deps(self) -> EngineDeps:
        return self.engine.deps


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the engine finds its venue, with what account, on which clock."""

    base_url: str
    credentials: VenueCredentials
    clock: ScaledClock

    @classmethod
    def of(cls, sandbox: RunningSandbox) -> Endpoint:
        """An in-process sandbox: the engine shares its clock."""
        return cls(sandbox.base_url, sandbox.credentials, sandbox.clock)


@asynccontextmanager
async def running_engine(
    sandbox: Endpoint,
    workdir: Path,
    *,
    config: EngineConfig,
    risk: RiskConfig,
    curves: CurveSet,
    plan: dict[str, Any] | None = None,
) -> AsyncIterator[BenchEngine]:
    """The engine quoting `sandbox` on its clock until the block ends (then it withdraws)."""
    usage_plan = UsagePlanConfig.model_validate(
        {"ledger_path": workdir / "ledger.json", **(plan or {})}
    )
    venue_config = VenueConfig(base_url=sandbox.base_url, usage_plan=usage_plan)
    strategy = TimedStrategy(load_strategy(STRATEGY, {}), sandbox.clock)
    audit = JsonlAudit(config.audit_dir)
    async with HttpVenue.open(venue_config, sandbox.credentials, sandbox.clock) as http:
        venue = TimedVenue(http, sandbox.clock)
        engine = build_engine(
            venue,
            sandbox.clock,
            config,
            risk,
            CurveStore(None, initial=curves),
            StrategySlot(STRATEGY, strategy),
            audit,
            KillSwitch(config.kill.latch_path),
            run_id="bench",
        )
        bench = BenchEngine(engine, venue, strategy, asyncio.Event())
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(bench.engine.run(bench.stop))
                try:
                    yield bench
                finally:
                    bench.stop.set()
        finally:
            audit.close()


def _serve_sandbox(config: SandboxConfig, conn: Connection) -> None:
    """In the sandbox's own process: serve until the parent says stop (or goes away)."""

    async def serve() -> None:
        async with run_sandbox(config) as running:
            conn.send(running.base_url)
            with contextlib.suppress(EOFError):
                await asyncio.to_thread(conn.recv)

    asyncio.run(serve())


@asynccontextmanager
async def sandbox_process(config: SandboxConfig) -> AsyncIterator[Endpoint]:
    """The sandbox in a process of its own, so that its work does not share the engine's event
    loop; the engine gets a clock started with the sandbox's."""
    credentials = generate_credentials()
    config = config.model_copy(update={"credentials": credentials})
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_sandbox, args=(config, child), daemon=True
    )
    process.start()
    try:
        base_url = str(await asyncio.to_thread(parent.recv))
        yield Endpoint(base_url, credentials, ScaledClock(start=config.start, speed=config.speed))
    finally:
        parent.send("stop")
        await asyncio.to_thread(process.join, 10.0)
        if process.is_alive():
            process.kill()


class Controls:
    """The sandbox's `/_sandbox/` controls (not counted against the plan), over one session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._root = f"{base_url}/_sandbox"

    @classmethod
    @asynccontextmanager
    async def open(cls, base_url: str) -> AsyncIterator[Controls]:
        async with aiohttp.ClientSession() as session:
            yield cls(session, base_url)

    async def _call(self, method: str, path: str, body: object = None) -> Any:
        async with self._session.request(method, self._root + path, json=body) as answer:
            if answer.status >= 300:
                raise RuntimeError(f"sandbox control {path}: {answer.status} {await answer.text()}")
            return await answer.json() if answer.content_length != 0 else None

    async def new_rfq(self, **overrides: Any) -> str:
        created = await self._call("POST", "/rfqs", overrides)
        return str(created["id"])

    async def fault(self, **fault: Any) -> None:
        await self._call("POST", "/faults", fault)

    async def counters(self) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", "/counters")
        return found


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Wait (in real time, checking every millisecond) until `condition` holds."""
    give_up = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > give_up:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for: {what}")
        await asyncio.sleep(0.001)


class LogTally(logging.Handler):
    """Counts the engine's warnings and errors instead of printing them over the figures."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_message: Counter[tuple[str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.by_message[(record.levelname, str(record.msg))] += 1

    def errors(self, expected: frozenset[str] = frozenset()) -> list[str]:
        """Errors logged whose message template is not in `expected`, with their counts."""
        return [
            f"{count} x {message!r}"
            for (level, message), count in self.by_message.items()
            if level in ("ERROR", "CRITICAL") and message not in expected
        ]


@contextmanager
def tallied_logs() -> Iterator[LogTally]:
    tally = LogTally()
    logger = logging.getLogger("quoter")
    logger.addHandler(tally)
    try:
        yield tally
    finally:
        logger.removeHandler(tally)


def percentiles_ms(samples_s: Sequence[float]) -> str:
    """`p50 0.42 ms, p99 1.9 ms (n=500)` for samples in seconds."""
    if not samples_s:
        return "no samples"
    p50, p99 = np.percentile(np.asarray(samples_s) * 1000.0, [50, 99])
    return f"p50 {_ms(float(p50))}, p99 {_ms(float(p99))} (n={len(samples_s)})"


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"
