"""Halting quoting from inside the engine: a kill latched, audited, counted and the withdrawals
woken; and what a latched kill covers of our quotes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from quoter.audit import events
from quoter.clock import Clock
from quoter.engine.audit import Audit, AuditError
from quoter.engine.killswitch import (
    Kill,
    KillSwitch,
    LatchError,
    TradingState,
    kill_label,
    same_kill,
)
from quoter.engine.quotes import OurQuote
from quoter.engine.stats import EngineStats

log = logging.getLogger(__name__)
ENGINE = "engine"  # who an automatic kill is by


@dataclass(frozen=True, slots=True)
class Halt:
    """What a part that may kill is handed: the switch, the clock a kill is stamped by, the
    audit trail it is recorded in, the counter of kills and the event that wakes the
    withdrawals."""

    killswitch: KillSwitch
    clock: Clock
    audit: Audit
    stats: EngineStats
    withdraw_wanted: asyncio.Event

    def kill(self, kill: Kill) -> None:
        """Latch a kill, record it on the trail and wake the withdrawals. A latch that cannot
        be written, or a trail, still kills (a failed audit write is often why it kills)."""
        if self._adds_nothing(kill):
            return
        log.error("kill by %s: %s", kill.by, kill.reason)
        self.stats.kills += 1
        try:
            self.killswitch.kill(kill)
        except LatchError as error:
            log.error("the kill holds in memory only, written to the latch once it can: %s", error)
        self.withdraw_wanted.set()
        failed = self.record_switch()
        if failed is not None:
            log.error("the kill is not on the audit trail: %s", failed)

    def _adds_nothing(self, kill: Kill) -> bool:
        """A kill its command already latched adds nothing, nor does one of everything while
        halted, unless the halt is not in the latch file (it cannot be written) and the kill
        is a person's: the desk's kill is then kept on its own, so that it is written back and
        holds until `quoter resume`."""
        switch = self.killswitch
        if kill.command_id is not None and any(same_kill(k, kill) for k in switch.kills):
            return True  # its command latched it itself: the bot was slow to answer
        if switch.state is not TradingState.HALTED or not kill.scope.everything:
            return False
        unwritten = switch.unwritten
        on_disk = any(k.scope.everything and k not in unwritten for k in switch.kills)
        return on_disk or kill.by == ENGINE

    def record_switch(self) -> AuditError | None:
        """Write the kill switch's state and the kills in force to the trail; the error if it
        could not be written."""
        switch = self.killswitch
        latched = events.KillChanged(
            state=switch.state.value, kills=tuple(kill_label(k) for k in switch.kills)
        )
        try:
            self.audit.write(latched, self.clock.now())
        except AuditError as error:
            return error
        return None

    def auto_kill(self, reason: str) -> None:
        self.kill(Kill(reason=reason, by=ENGINE, at=self.clock.now()))


def must_withdraw(killswitch: KillSwitch, quote: OurQuote) -> bool:
    """A latched kill covers this quote."""
    i = quote.rfq.instrument
    blocked = killswitch.blocked_by(i.market_area, i.product_type, quote.strategy)
    return blocked is not None and blocked.startswith("killed")
