"""The composition root: builds and wires the venue client, curves, strategy, kill switch,
audit trail and engine for one run. Nothing else constructs these."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from quoter.admin.config import AdminConfig
from quoter.admin.reload import watch_config
from quoter.admin.server import serve_admin
from quoter.audit.key import load_key
from quoter.audit.story import last_record_at
from quoter.clock import Clock, ScaledClock, SystemClock
from quoter.config import QuoterConfig
from quoter.engine.audit import JsonlAudit
from quoter.engine.build import build_engine
from quoter.engine.config import EngineConfig
from quoter.engine.curve_watch import CurveStore
from quoter.engine.engine import Engine
from quoter.engine.heartbeat import Heartbeat
from quoter.engine.hours import TradingCalendar
from quoter.engine.killswitch import KillSwitch
from quoter.engine.reconcile import StartRefused
from quoter.engine.state import StrategySlot
from quoter.metrics.audit import TimedAudit
from quoter.metrics.collector import build_registry
from quoter.metrics.config import MetricsConfig
from quoter.metrics.server import serve_metrics
from quoter.pricing.config import CurvesConfig
from quoter.pricing.synthetic import synthetic_curve_set
from quoter.risk.config import RiskConfig
from quoter.strategies_api import load_strategy
from quoter.trades.recorder import TradeRecorder
from quoter.venue.config import VenueConfig, VenueCredentials
from quoter.venue.http import HttpVenue


@dataclass(frozen=True, slots=True)
class AdminAccess:
    """How the running bot is steered: the admin interface (off without a token) and the
    config file whose strategy sections it follows (None: none)."""

    config: AdminConfig
    token: SecretStr | None
    config_path: Path | None = None
    config_poll_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Bot:
    engine: Engine
    venue: HttpVenue
    registry: CollectorRegistry


def build_curves(config: CurvesConfig, now: datetime) -> CurveStore:
    """Curves from files (watched for changes) or, with no path, the synthetic set."""
    if config.path is None:
        synthetic = synthetic_curve_set(
            now, years=config.synthetic_years, seed=config.synthetic_seed
        )
        return CurveStore(None, initial=synthetic)
    return CurveStore(config.path, config=config)


@asynccontextmanager
async def open_bot(
    engine_config: EngineConfig,
    venue_config: VenueConfig,
    risk: RiskConfig,
    credentials: VenueCredentials,
    clock: Clock,
    curves: CurveStore,
    run_facts: Mapping[str, object] | None = None,
) -> AsyncIterator[Bot]:
    """The bot for one run; `run_facts` (its clock, its market's seed) go into the trail's
    start record with the run's id, which tells runs apart."""
    strategy_config = engine_config.strategy
    strategy = load_strategy(strategy_config.name, strategy_config.params)
    shadow_config = engine_config.shadow
    shadow = None
    if shadow_config is not None:
        shadow_strategy = load_strategy(shadow_config.name, shadow_config.params)
        shadow = StrategySlot(shadow_config.name, shadow_strategy, dict(shadow_config.params))
    # A credential that leaks into an error message is redacted from the trail too.
    secret_values = [
        c.get_secret_value()
        for c in (credentials.client_id, credentials.client_secret, credentials.api_key)
    ]
    audit_key = load_key(engine_config.audit_key_path, engine_config.audit_dir, create=True)
    audit = JsonlAudit(
        engine_config.audit_dir,
        key=audit_key,
        anchor_path=engine_config.audit_anchor_path,
        secret_values=secret_values,
    )
    # Audit writes are timed on the real clock: they cost real time whatever the clock's speed.
    timed_audit = TimedAudit(audit, SystemClock().monotonic, audit.health)
    async with HttpVenue.open(venue_config, credentials, clock) as venue:
        engine = build_engine(
            venue,
            clock,
            engine_config,
            risk,
            curves,
            StrategySlot(strategy_config.name, strategy, dict(strategy_config.params)),
            timed_audit,
            KillSwitch(engine_config.kill.latch_path),
            run_id=secrets.token_hex(4),
            shadow=shadow,
            trades=_trade_recorder(engine_config.trades_file),
            run_facts=run_facts,
        )
        registry = build_registry(engine.deps, engine.desk, venue.stats, timed_audit)
        try:
            yield Bot(engine, venue, registry)
        finally:
            audit.close()


def _trade_recorder(path: Path | None) -> TradeRecorder | None:
    """With a trade file, its store, and so pandas, imported here at the start (0.3 s), not at
    the first fill in the middle of a trading day on the event loop; with none, never."""
    if path is None:
        return None
    from quoter.trades.store import TradeStore

    return TradeRecorder(TradeStore(path))


async def run_bot(
    bot: Bot,
    curves: CurveStore,
    curves_config: CurvesConfig,
    clock: Clock,
    stop: asyncio.Event,
    on_tick: Callable[[Bot], None] | None = None,
    tick_s: float = 1.0,
    metrics: MetricsConfig | None = None,
    admin: AdminAccess | None = None,
    heartbeat: Heartbeat | None = None,
) -> None:
    """The engine, the curve watcher, the status ticker and, with `admin.config_path`, the
    config-file watcher, under one task group; `/metrics` and the admin interface served for
    as long as they run when configured. With `heartbeat`, the dead-man's switch's beat too,
    marked stopped at a clean end with nothing left live."""

    async def ticker() -> None:
        while on_tick is not None and not stop.is_set():
            on_tick(bot)
            await clock.sleep(tick_s)

    try:
        async with AsyncExitStack() as stack:
            if metrics is not None and metrics.enabled:
                await stack.enter_async_context(serve_metrics(metrics, bot.registry))
            if admin is not None and admin.token is not None and admin.config.enabled:
                await stack.enter_async_context(serve_admin(admin.config, bot.engine, admin.token))
            await _run_tasks(bot, curves, curves_config, clock, stop, ticker, admin, heartbeat)
    except BaseExceptionGroup as group:
        # A start the venue refused (credentials, quota) is a stop the bot chose, its own kill
        # latched: the switch's sweep would be refused alike, and its kill would be a false one.
        if group.split(StartRefused)[1] is None:
            _stopped(heartbeat, bot, start_refused=True)
        raise
    _stopped(heartbeat, bot)


def _stopped(heartbeat: Heartbeat | None, bot: Bot, *, start_refused: bool = False) -> None:
    """A clean stop: the final sweep found none of ours live (else the switch fires once the
    process is gone). A refused start's sweep is refused too: it is clean if the book holds
    nothing, the most the bot can know, and the switch's sweep would be refused alike."""
    engine = bot.engine
    left = len(engine.desk.quotes) if start_refused else engine.left_live
    if heartbeat is None:
        return
    if left == 0:
        heartbeat.stopped()
    else:  # the last word: the quotes whose outcome the switch is to look for once it fires
        heartbeat.beat()


async def _run_tasks(
    bot: Bot,
    curves: CurveStore,
    curves_config: CurvesConfig,
    clock: Clock,
    stop: asyncio.Event,
    ticker: Callable[[], Coroutine[object, object, None]],
    admin: AdminAccess | None,
    heartbeat: Heartbeat | None = None,
) -> None:
    async with asyncio.TaskGroup() as group:
        helpers = [
            group.create_task(curves.watch(clock, curves_config.poll_interval_s, stop)),
            group.create_task(ticker()),
        ]
        if heartbeat is not None:
            helpers.append(group.create_task(heartbeat.run(bot.engine.unsettled)))
        if admin is not None and admin.config_path is not None:
            watch = watch_config(admin.config_path, bot.engine, clock, admin.config_poll_s)
            helpers.append(group.create_task(watch))
        try:
            await bot.engine.run(stop)
        finally:
            for helper in helpers:
                helper.cancel()


def demo_start(config: EngineConfig, now: datetime, after: datetime | None = None) -> datetime:
    """Where the demo's sandbox clock starts: now if the market is open, else the next open;
    never before `after` (the demo trail's last record): each run's records come after the
    last run's, so a trail of several demo runs reads forward in time."""
    if after is not None and after + timedelta(minutes=1) > now:
        now = after + timedelta(minutes=1)
    calendar = TradingCalendar(config.hours)
    areas = frozenset({"DE", "FR", "NL", "THE", "TTF"})
    if any(calendar.is_open(a, now) for a in areas):
        return now
    return calendar.next_open(areas, now) + timedelta(minutes=5)


def demo_clock(config: QuoterConfig) -> ScaledClock:
    """The demo's sandbox clock: `[sandbox] start`, else `demo_start` after the demo's trail."""
    last = last_record_at(config.engine.audit_dir)
    start = demo_start(config.engine, SystemClock().now(), last)
    return ScaledClock(start=config.sandbox.start or start, speed=config.sandbox.speed)
