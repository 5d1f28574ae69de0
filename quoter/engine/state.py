"""The engine's collaborators and single-owner state, handed to each of its parts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from quoter.basics.usage import GuardState
from quoter.clock import Clock
from quoter.domain import LoadShape, Rfq
from quoter.engine.audit import Audit
from quoter.engine.config import EngineConfig
from quoter.engine.hours import TradingCalendar
from quoter.engine.killswitch import Kill, KillSwitch, LatchError, TradingState
from quoter.engine.quotes import OurQuote, QuoteBook
from quoter.engine.stats import EngineStats
from quoter.pricing.curve import CurveSet
from quoter.risk.book import RiskBook
from quoter.risk.config import RiskConfig
from quoter.strategies_api import Strategy
from quoter.trades.recorder import TradeRecorder
from quoter.venue.port import Venue

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class StrategySlot:
    """The live strategy; replaced whole, so one decision never mixes two parameter sets."""

    name: str
    strategy: Strategy
    params: dict[str, object] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        """Name and parameters, as the audit trail and the admin interface show them."""
        return {"name": self.name, "params": self.params}


@dataclass(slots=True)
class EngineContext:
    venue: Venue
    quota: QuotaView
    clock: Clock
    config: EngineConfig
    risk: RiskConfig
    curves: Curves
    calendar: TradingCalendar
    killswitch: KillSwitch
    audit: Audit
    run_id: str
    strategy: StrategySlot
    # Prices every RFQ the live strategy prices, and sends nothing (None: no shadow).
    shadow: StrategySlot | None = None
    stats: EngineStats = field(default_factory=EngineStats)
    quotes: QuoteBook = field(init=False)
    book: RiskBook = field(init=False)
    open_rfqs: dict[str, Rfq] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)
    shapes: dict[str, LoadShape] = field(default_factory=dict)
    cursor: datetime | None = None
    withdraw_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    trades: TradeRecorder | None = None
    # What tells this run apart in the trail's start record: its clock, its market's seed.
    run_facts: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset_desk()

    def reset_desk(self) -> None:
        """An empty risk book and quote book: before a start's reconciliation is tried again,
        so nothing it read the first time is counted twice."""
        self.book = RiskBook(
            drift_window_s=self.risk.collar.drift_window_s,
            fill_window_s=self.risk.fill_throttle_window_s,
            payment_day=self.risk.credit_payment_day,
        )
        self.quotes = QuoteBook()

    def kill(self, kill: Kill) -> None:
        """Latch a kill and wake the withdrawals. A latch that cannot be written still kills."""
        if self.killswitch.state is TradingState.HALTED and kill.scope.everything:
            return
        log.error("kill by %s: %s", kill.by, kill.reason)
        self.stats.kills += 1
        try:
            self.killswitch.kill(kill)
        except LatchError:
            log.exception("the kill holds in memory only")
        self.withdraw_wanted.set()

    def auto_kill(self, reason: str) -> None:
        self.kill(Kill(reason=reason, by="engine", at=self.clock.now()))

    def must_withdraw(self, quote: OurQuote) -> bool:
        """A latched kill covers this quote."""
        i = quote.rfq.instrument
        blocked = self.killswitch.blocked_by(i.market_area, i.product_type, quote.strategy)
        return blocked is not None and blocked.startswith("killed")
