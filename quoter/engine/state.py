"""The engine's frozen dependencies (ports, clock, configuration slices), the ports' shapes it
needs, and the strategy slot; its mutable state is `quoter.engine.desk`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from quoter.basics.usage import GuardState
from quoter.clock import Clock
from quoter.engine.audit import Audit
from quoter.engine.config import EngineConfig
from quoter.engine.hours import TradingCalendar
from quoter.engine.killswitch import KillSwitch
from quoter.pricing.curve import CurveSet
from quoter.risk.config import RiskConfig
from quoter.strategies_api import Strategy, parameters_in_effect, strategy_version
from quoter.trades.recorder import TradeRecorder
from quoter.venue.port import Venue


class Curves(Protocol):
    @property
    def current(self) -> CurveSet: ...


class QuotaView(Protocol):
    def guard_state(self) -> GuardState: ...

    def ledger_failsafe(self) -> str | None:
        """`guard_state().ledger_failsafe` without building the whole state: asked twice a
        poll."""
        ...

    def poll_allowance(self) -> tuple[date, int]:
        """`guard_state().day` and what the poll lane has left of it (`left_today`), without
        building the whole state: asked every poll."""
        ...

    def rate_limited_answers(self, window_s: float) -> tuple[int, int]:
        """The venue's 429 Too Many Requests answers: since the start, and in the last
        `window_s` seconds (each answer, not each failed call: retries absorb some)."""
        ...


class QuotedVenue(Venue, QuotaView, Protocol):
    """A venue port that also reports its usage guard (HttpVenue, SimVenue): the engine reads
    both from the one client."""


@dataclass(frozen=True, slots=True)
class StrategySlot:
    """The live strategy; replaced whole, so one decision never mixes two parameter sets."""

    name: str
    strategy: Strategy
    params: dict[str, object] = field(default_factory=dict)
    # `strategy_version`: declared, else its source's digest; read once, as the slot is made,
    # not for every decision's audit record.
    version: str | None = field(init=False, compare=False)
    # What priced it: `params` with the strategy's defaults filled in (`params` as given when
    # the strategy has no typed parameters), read once, as the slot is made.
    in_effect: dict[str, object] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_effect", parameters_in_effect(self.strategy, self.params))
        object.__setattr__(self, "version", strategy_version(self.strategy))

    def describe(self) -> dict[str, object]:
        """Name, parameters and version, as the audit trail and the admin interface show them:
        a swap to an edited module under the same name says its version changed."""
        return {"name": self.name, "params": self.params, "version": self.version}


@dataclass(frozen=True, slots=True)
class EngineDeps:
    """What the engine works with and never replaces: its ports, its clock, its configuration
    slices and the facts of its run. Built once, by `quoter.engine.build`."""

    venue: QuotedVenue  # the parts that only read the quota are handed it as a QuotaView
    clock: Clock
    config: EngineConfig
    risk: RiskConfig
    curves: Curves
    calendar: TradingCalendar
    killswitch: KillSwitch
    audit: Audit
    run_id: str
    trades: TradeRecorder | None = None
    # What tells this run apart in the trail's start record: its clock, its market's seed.
    run_facts: Mapping[str, object] = field(default_factory=dict)
