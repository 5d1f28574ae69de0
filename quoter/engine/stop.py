"""The stop's withdrawal: sweep until the venue lists none of our quotes live and no submit's
outcome is unknown, within `[engine.kill] stop_withdraw_timeout_s` of the stop; a request to the
venue still unanswered then is cut off. What may still be live is said and audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from quoter.audit import events
from quoter.clock import Clock, within
from quoter.engine.audit import Audit, AuditError
from quoter.engine.desk import Desk
from quoter.engine.quotes import QuoteState
from quoter.engine.sweep import SweepResult
from quoter.engine.watch import Watcher
from quoter.engine.withdraw import Withdrawer, everything

log = logging.getLogger(__name__)

UNKNOWN_LOOK_S = 0.5  # how often the venue is read again for an unanswered submit


@dataclass(frozen=True, slots=True)
class StopResult:
    elapsed_s: float  # from the stop (its drain included) to the end of its withdrawal
    clean: bool  # the venue listed none of ours live and no submit's outcome was unknown
    possibly_live: tuple[str, ...]  # the RFQs whose quote may still be live, if not clean

    @property
    def left_live(self) -> int:
        """How many quotes may still be live: 0 only for a clean stop."""
        return 0 if self.clean else max(len(self.possibly_live), 1)


class StopWithdrawal:
    def __init__(
        self, withdrawer: Withdrawer, watcher: Watcher, desk: Desk, clock: Clock, audit: Audit
    ) -> None:
        self._withdrawer = withdrawer
        self._watcher = watcher
        self._desk = desk
        self._clock = clock
        self._trail = audit

    async def run(self, why: str, started_s: float, timeout_s: float) -> StopResult:
        """Withdraw everything until `timeout_s` after `started_s` (the clock's monotonic)."""
        desk, clock = self._desk, self._clock
        for quote in desk.quotes:
            if quote.state is QuoteState.IN_FLIGHT:
                # Its submit was cut off: no answer will bring the id, read the venue instead.
                desk.quotes.mark(quote.rfq.id, QuoteState.UNKNOWN)
        deadline = started_s + timeout_s
        passes: list[SweepResult] = []
        last = await within(
            clock, deadline - clock.monotonic(), self._sweeps(why, deadline, passes)
        )
        elapsed_s = clock.monotonic() - started_s
        unanswered = self._watcher.forget_expired_unknown()
        result = passes[-1] if passes else None
        clean = last is not None and last.complete and not unanswered
        # What the book still tracks (a quote the venue answered not-active, its RFQ's end never
        # polled) counts only when the venue could not confirm that none of ours is live.
        left = () if clean else tuple(sorted({q.rfq.id for q in desk.quotes} | _listed(result)))
        said = "no pass finished" if result is None else result.describe()
        if last is None:
            said += "; cut off at the window's end with a request to the venue unanswered"
        self._record(why, elapsed_s, timeout_s, clean, said, left)
        if not clean:
            log.error(
                "stopping with quotes possibly live after %.1f s (window %g s): %s; "
                "%d submits unanswered; possibly live on RFQs: %s",
                elapsed_s,
                timeout_s,
                said,
                len(unanswered),
                ", ".join(left) or "none known, check the venue",
            )
        return StopResult(elapsed_s, clean, left)

    async def _sweeps(self, why: str, deadline: float, passes: list[SweepResult]) -> SweepResult:
        """Sweep, again every UNKNOWN_LOOK_S until clean; `passes` has each pass's result."""
        clock = self._clock
        while True:
            left_s = max(deadline - clock.monotonic(), 0.0)
            result = await self._withdrawer.sweep(why, everything, timeout_s=left_s)
            passes.append(result)
            if result.complete and not self._watcher.forget_expired_unknown():
                return result
            if result.refused is not None:
                return result  # the venue refuses every request (credentials, quota)
            await clock.sleep(UNKNOWN_LOOK_S)

    def _record(
        self,
        why: str,
        elapsed_s: float,
        timeout_s: float,
        clean: bool,
        said: str,
        left: tuple[str, ...],
    ) -> None:
        stopped = events.StopWithdrawal(
            why=why,
            elapsed_s=round(elapsed_s, 3),
            timeout_s=timeout_s,
            clean=clean,
            result=said,
            possibly_live=left,
        )
        try:
            self._trail.write(stopped, self._clock.now())
        except AuditError as error:  # the stop goes on when the trail is broken: said
            log.error("audit write failed at the stop: %s", error)


def _listed(result: SweepResult | None) -> set[str]:
    return set() if result is None else {q.rfq_id for q in result.left}
