"""What the venue's answers say about us: a share of our quotes refused over a window halts
quoting with the venue's reason (something in every quote is wrong), and its timestamps against
our clock, beyond a tolerance, stop new quotes until they agree again (a quote's validity and
every deadline are read on our clock)."""

from __future__ import annotations

import logging
from datetime import datetime

from quoter.audit import events
from quoter.clock import Clock
from quoter.engine.audit import Audit, AuditError
from quoter.engine.config import KillConfig
from quoter.engine.halt import Halt
from quoter.engine.killswitch import KillSwitch
from quoter.engine.stats import EngineStats, RecentShare
from quoter.venue import errors

log = logging.getLogger(__name__)

MIN_SUBMITS_FOR_RATE = 10
SKEW_CONDITION = "clock-skew"
SKEW_HOLD_S = 60.0  # after a reading beyond the tolerance: no new quote for this long
# Refusals that say something is wrong with what we send; not a race with the RFQ's end, and
# not our own guard keeping the budget.
REFUSALS = (errors.QuoteRejected,)


class VenueAnswers:
    def __init__(
        self,
        config: KillConfig,
        clock: Clock,
        killswitch: KillSwitch,
        audit: Audit,
        stats: EngineStats,
        halt: Halt,
    ) -> None:
        self._config = config
        self._clock = clock
        self._killswitch = killswitch
        self._audit = audit
        self._stats = stats
        self._halt = halt
        self._refused = RecentShare(config.window)  # of the last submits answered
        self._skewed_until_s = float("-inf")

    def accepted(
        self, venue_created_at: datetime, sent_at: datetime, answered_at: datetime
    ) -> None:
        """A quote the venue stored: its created-at lies between our send and its answer, by
        the venue's clock. Outside that span, beyond the tolerance, the clocks disagree."""
        self._refused.add(False)
        if venue_created_at < sent_at:
            self.clock_reading((sent_at - venue_created_at).total_seconds())
        elif venue_created_at > answered_at:
            self.clock_reading(-(venue_created_at - answered_at).total_seconds())
        else:
            self.clock_reading(0.0)

    def refused(self, error: errors.VenueError) -> None:
        if not isinstance(error, REFUSALS):
            return
        rate = self._refused.add(True)
        submits, window = len(self._refused), self._config.window
        if submits >= min(window, MIN_SUBMITS_FOR_RATE) and rate > self._config.max_refusal_rate:
            self._halt.auto_kill(
                f"venue refused {round(rate * submits)}/{submits} quotes, last: {error}"
            )

    def bad(self, error: errors.MalformedResponse) -> None:
        """An answer refused whole (not JSON, a field wrong): counted by its endpoint, kept for
        the status, audited with its field. The caller handles what it meant for the call."""
        endpoint = error.endpoint or "unknown"
        self._stats.bad_answers[endpoint] += 1
        self._stats.bad_answer_last = str(error)
        event = events.BadAnswer(endpoint=endpoint, field=error.field, error=str(error))
        try:
            self._audit.write(event, self._clock.now())
        except AuditError as failed:
            self._halt.auto_kill(f"audit write failed: {failed}")

    def rfq_seen(self, venue_updated_at: datetime, received_at: datetime) -> None:
        """An RFQ's last change, by the venue's clock, cannot be later than our receiving it."""
        behind_s = (venue_updated_at - received_at).total_seconds()
        if behind_s > 0:
            self.clock_reading(-behind_s)

    def clock_reading(self, offset_s: float) -> None:
        """`offset_s`: how far our clock is ahead of the venue's (negative: behind), at least."""
        self._stats.clock_offset_s = offset_s
        tolerance_s = self._config.max_clock_skew_s
        now_s = self._clock.monotonic()
        if abs(offset_s) > tolerance_s:
            way = "ahead of" if offset_s > 0 else "behind"
            detail = f"our clock is {abs(offset_s):.1f} s {way} the venue's (tolerance {tolerance_s:g} s)"
            if not self._killswitch.has_condition(SKEW_CONDITION):
                log.error("no new quotes: %s", detail)
                skewed = events.ClockSkewed(offset_s=offset_s, detail=detail)
                self._audit.write(skewed, self._clock.now())
            self._killswitch.set_condition(SKEW_CONDITION, detail)
            self._skewed_until_s = now_s + SKEW_HOLD_S
        elif now_s >= self._skewed_until_s:
            self.lift()

    def lift(self) -> None:
        """The hold is over: the next answer measures again."""
        if (
            self._killswitch.has_condition(SKEW_CONDITION)
            and self._clock.monotonic() >= self._skewed_until_s
        ):
            self._killswitch.clear_condition(SKEW_CONDITION)
            log.warning("clock skew condition lifted: quoting again")
