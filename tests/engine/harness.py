"""The real engine against the real sandbox over loopback, for end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from quoter.clock import Clock
from quoter.domain import Price, QuoteRequest
from quoter.engine.audit import Audit, JsonlAudit
from quoter.engine.build import build_engine
from quoter.engine.config import EngineConfig
from quoter.engine.curve_watch import CurveStore
from quoter.engine.desk import Desk
from quoter.engine.engine import Engine
from quoter.engine.killswitch import KillSwitch
from quoter.engine.planner import PollConfig
from quoter.engine.quotes import OurQuote
from quoter.engine.state import Curves, EngineDeps, QuotedVenue, StrategySlot
from quoter.pricing.synthetic import synthetic_curve_set
from quoter.risk.config import DEMO_RISK, RiskConfig
from quoter.sandbox.server import RunningSandbox, run_sandbox
from quoter.strategies_api import Strategy, load_strategy
from quoter.trades.recorder import TradeRecorder
from tests.conftest import SANDBOX_START, sandbox_config
from tests.venue.contract import client

BIG_QUOTA = 1_000_000
WIN = {"competitor-price": 3000.0}  # the requester buys; a competitor this dear means we win
DEADLINE_S = 300  # the sandbox's default time to quote: advancing past it settles the RFQ
CURVES = synthetic_curve_set(SANDBOX_START)


@asynccontextmanager
async def fast_sandbox(**overrides: Any) -> AsyncIterator[RunningSandbox]:
    """A sandbox whose daily quota lets the engine poll every few tens of milliseconds."""
    async with run_sandbox(sandbox_config(**{"daily_quota": BIG_QUOTA, **overrides})) as running:
        yield running


def engine_config(
    tmp_path: Path,
    *,
    kill: dict[str, Any] | None = None,
    min_poll_s: float = 0.02,
    **quoting: Any,
) -> EngineConfig:
    """Polling every 20 ms of the clock by default: on the wall clock a test then waits little
    for the engine to see what it did (virtual-time tests use the production 1 s)."""
    return EngineConfig.model_validate(
        {
            "poll": PollConfig(min_interval_s=min_poll_s),
            "quoting": {"strategy_timeout_s": 0.5, **quoting},
            "kill": {"latch_path": tmp_path / "kill.json", **(kill or {})},
            "audit_dir": tmp_path / "audit",
            # Not the default var/trades.parquet: a test leaves the working tree as it found it.
            "trades_file": tmp_path / "trades.parquet",
        }
    )


@dataclass
class Running:
    engine: Engine
    stop: asyncio.Event

    @property
    def desk(self) -> Desk:
        return self.engine.desk

    @property
    def deps(self) -> EngineDeps:
        return self.engine.deps


@asynccontextmanager
async def running_engine(
    sandbox: RunningSandbox,
    tmp_path: Path,
    *,
    strategy: Strategy | None = None,
    risk: RiskConfig = DEMO_RISK,
    config: EngineConfig | None = None,
    venue: dict[str, Any] | None = None,
    run_id: str = "test",
    clock: Clock | None = None,
    curves: Curves | None = None,
    trades: TradeRecorder | None = None,
    run_facts: dict[str, object] | None = None,
) -> AsyncIterator[Running]:
    """The engine quoting `sandbox` over HTTP. A second run on the same sandbox takes another
    `run_id`, as the app draws one per run: client-quote-ids are made from it."""
    config = config or engine_config(tmp_path)
    overrides = dict(venue or {})
    plan = {
        "daily_quota": BIG_QUOTA,
        "withdraw_reserve_daily": 250,
        "submit_reserve_daily": 500,
        **overrides.pop("usage_plan", {}),
    }
    async with (
        client(sandbox, tmp_path, usage_plan=plan, **overrides) as http,
        engine_on(
            http,
            clock or sandbox.clock,
            config,
            strategy=strategy,
            risk=risk,
            run_id=run_id,
            curves=curves,
            trades=trades,
            run_facts=run_facts,
        ) as running,
    ):
        yield running


@asynccontextmanager
async def engine_on(
    venue: QuotedVenue,
    clock: Clock,
    config: EngineConfig,
    *,
    strategy: Strategy | None = None,
    risk: RiskConfig = DEMO_RISK,
    run_id: str = "test",
    curves: Curves | None = None,
    trades: TradeRecorder | None = None,
    audit: Audit | None = None,
    run_facts: dict[str, object] | None = None,
) -> AsyncIterator[Running]:
    """The engine, wired as `quoter run` wires it, quoting `venue` (over HTTP or simulated),
    writing the audit trail under the config's audit_dir unless another `audit` is given."""
    engine = build_engine(
        venue,
        clock,
        config,
        risk,
        curves or CurveStore(None, initial=CURVES),
        StrategySlot("curve-spread", strategy or load_strategy("curve_spread", {})),
        JsonlAudit(config.audit_dir) if audit is None else audit,
        KillSwitch(config.kill.latch_path),
        run_id=run_id,
        trades=trades,
        run_facts=run_facts,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        yield Running(engine, stop)
    finally:
        stop.set()
        await task


async def left_by_a_crash(sandbox: RunningSandbox, tmp_path: Path, mine: OurQuote) -> None:
    """What a crashed run leaves behind: `mine` live at the venue with no run to withdraw it.
    A run that stops sweeps the venue clean, so the test puts it back once the run has ended,
    under another client-quote-id, as a client that shares the key would."""
    prices = [Price(p) for p in mine.prices]
    one_way = len(prices) == 1
    request = QuoteRequest(
        rfq_id=mine.rfq.id,
        client_quote_id=f"{mine.client_quote_id}-crashed",
        valid_until=mine.valid_until,
        price=prices[0] if one_way else None,
        bid=None if one_way else prices[0],
        ask=None if one_way else prices[1],
    )
    async with client(sandbox, tmp_path / "crashed-run") as http:
        await http.submit_quote(request)


# A plan refilling ten times the default rate, on both sides: after a 429 empties the bucket
# (the guard's answer), a lane waits a tenth of the default 3 s for its reserve to come back.
QUICK_REFILL = {"rate_per_s": 100.0}


# For a test whose venue refuses every withdrawal on purpose: the stop gives up after this
# rather than the default 10 s, which only that stop would wait out.
SHORT_STOP = {"stop_withdraw_timeout_s": 0.5}


def month_ahead(label: str = "Apr-26") -> dict[str, object]:
    """The sandbox fields of a base month RFQ for April 2026 (the sandbox's month ahead)."""
    return {
        "instrument": {
            "load": "base",
            "maturity": {"start": "2026-03-31T22:00:00.000Z", "end": "2026-04-30T22:00:00.000Z"},
            "product": {"type": "month", "label": label},
        }
    }


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait (briefly, for the engine's own loop) until `condition` holds; on the loop's time,
    which a virtual-time test's clock moves."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout_s
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.01)


def audit_records(tmp_path: Path, kind: str | None = None) -> list[dict[str, Any]]:
    records = [
        orjson.loads(line)
        for path in sorted((tmp_path / "audit").glob("audit-*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]
    return [r for r in records if kind is None or r["kind"] == kind]
