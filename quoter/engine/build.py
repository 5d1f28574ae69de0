"""The engine's one wiring: `build_engine` takes the parts that differ between `quoter run`, the
replay driver, the benchmarks and the tests (the venue, the clock, the audit trail, the curves,
the strategy, the kill switch, the configuration) and returns the engine with its dependencies and its desk."""

from __future__ import annotations

from collections.abc import Mapping

from quoter.clock import Clock
from quoter.engine.audit import Audit
from quoter.engine.config import EngineConfig
from quoter.engine.desk import Desk
from quoter.engine.engine import Engine
from quoter.engine.hours import TradingCalendar
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import Curves, EngineDeps, QuotedVenue, StrategySlot
from quoter.risk.config import RiskConfig
from quoter.trades.recorder import TradeRecorder


def build_engine(
    venue: QuotedVenue,
    clock: Clock,
    config: EngineConfig,
    risk: RiskConfig,
    curves: Curves,
    strategy: StrategySlot,
    audit: Audit,
    killswitch: KillSwitch,
    *,
    run_id: str,
    shadow: StrategySlot | None = None,
    trades: TradeRecorder | None = None,
    run_facts: Mapping[str, object] | None = None,
) -> Engine:
    """The engine quoting `venue` on `clock`, its trading calendar from `config.hours`;
    `run_facts` (its clock, its market's seed) go into the trail's start record."""
    deps = EngineDeps(
        venue=venue,
        clock=clock,
        config=config,
        risk=risk,
        curves=curves,
        calendar=TradingCalendar(config.hours),
        killswitch=killswitch,
        audit=audit,
        run_id=run_id,
        trades=trades,
        run_facts=dict(run_facts or {}),
    )
    return Engine(deps, Desk(risk, strategy, shadow))
