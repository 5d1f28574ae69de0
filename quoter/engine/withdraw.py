"""Withdrawing our quotes. The venue decides what is live: every pass (a kill, the close of
trading, reconciliation, shutdown) first withdraws the quotes the book knows by id, at once,
then sweeps the venue's list of our active quotes (quoter.engine.sweep) until it lists none in
scope. A quote the venue lists that the book does not know is withdrawn by every pass: no one
else would. A quote whose submit went unanswered and that the venue does not list stays in the
book as possibly live; the watcher keeps looking for it, and a kill withdraws it once found."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from quoter.audit import events
from quoter.clock import Clock
from quoter.domain import Quote
from quoter.engine.audit import Audit, AuditError
from quoter.engine.desk import Desk
from quoter.engine.halt import must_withdraw
from quoter.engine.killswitch import KillSwitch
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.sweep import SweepResult, Withdrawal, sweep
from quoter.venue import errors
from quoter.venue.port import Venue

log = logging.getLogger(__name__)

SWEEP_TIMEOUT_S = 10.0
RETRY_PASS_S = 1.0  # a kill's pass that could not finish is run again after this pause

Covers = Callable[[OurQuote], bool]


def everything(quote: OurQuote) -> bool:
    return True


class Withdrawer:
    def __init__(
        self, venue: Venue, clock: Clock, audit: Audit, killswitch: KillSwitch, desk: Desk
    ) -> None:
        self._venue = venue
        self._clock = clock
        self._trail = audit
        self._killswitch = killswitch
        self._desk = desk

    async def run(self) -> None:
        """Owned by the engine: withdraw whatever the kill switch covers, each time woken, and
        again until the venue lists nothing the kills cover."""
        wanted, killswitch = self._desk.withdraw_wanted, self._killswitch
        while True:
            await wanted.wait()
            wanted.clear()
            if not killswitch.kills:
                continue  # lifted meanwhile, or woken by a condition: nothing latched to carry out
            result = await self.sweep("kill", lambda quote: must_withdraw(killswitch, quote))
            if not result.complete:
                wanted.set()
                await self._clock.sleep(RETRY_PASS_S)

    async def sweep(
        self, why: str, covers: Covers, timeout_s: float = SWEEP_TIMEOUT_S
    ) -> SweepResult:
        """The book's quotes that `covers` accepts, then the venue's list, until it lists none
        that `covers` accepts (nor any the book does not know)."""
        desk = self._desk
        known = [q for q in desk.quotes if covers(q) and q.quote_id and _withdrawable(q)]
        await asyncio.gather(*(self._withdraw_known(q, why) for q in known))
        result = await sweep(
            self._venue,
            self._clock,
            timeout_s=timeout_s,
            covers=lambda listed: self._covers(listed, covers),
            on_withdrawn=lambda listed, how: self._swept(listed, how, why),
        )
        if not result.complete:
            log.error("withdrawal pass (%s) unfinished: %s", why, result.describe())
        self._audit(
            events.WithdrawalPass(
                why=why,
                by_id=len(known),
                swept=len(result.withdrawn),
                not_active=len(result.not_active),
                left=len(result.left),
                complete=result.complete,
                possibly_live=len(desk.quotes.unknown()),
            )
        )
        return result

    async def withdraw(self, quote: OurQuote, why: str) -> None:
        """Withdraw one quote known live by id (one in any other state is left to what settles
        it: its answer, its outcome, or the pass already withdrawing it)."""
        if quote.quote_id and _withdrawable(quote):
            await self._withdraw_known(quote, why)

    async def _withdraw_known(self, quote: OurQuote, why: str) -> None:
        """One try by the id we know; what fails is left to the sweep, which lists it again."""
        desk = self._desk
        rfq_id, quote_id = quote.rfq.id, quote.quote_id
        assert quote_id is not None
        desk.quotes.mark(rfq_id, QuoteState.WITHDRAWING)
        try:
            await self._venue.withdraw_quote(rfq_id, quote_id)
        except (errors.QuoteNotActive, errors.NotFound):
            # Already gone: expired, or accepted in a race; the RFQ poll tells which.
            self._withdrawal(rfq_id, why, "not-active")
        except errors.VenueError as error:
            desk.stats.withdraw_failures += 1
            desk.quotes.mark(rfq_id, quote.state)
            log.warning("withdrawal of %s failed (%s)", rfq_id, type(error).__name__)
        else:
            self._gone(rfq_id, why)

    def _covers(self, listed: Quote, covers: Covers) -> bool:
        mine = self._desk.quotes.get(listed.rfq_id)
        # Not in the book: an orphan no one else would withdraw. A quote the book replaced by
        # a requote goes by its RFQ's scope.
        return mine is None or covers(mine)

    def _swept(self, listed: Quote, how: Withdrawal, why: str) -> None:
        desk = self._desk
        mine = desk.quotes.get(listed.rfq_id)
        if mine is not None and mine.client_quote_id == listed.client_quote_id:
            if how is Withdrawal.WITHDRAWN:
                self._gone(listed.rfq_id, why)
            else:
                self._withdrawal(listed.rfq_id, why, "not-active")
            return
        if how is Withdrawal.WITHDRAWN:
            desk.stats.withdrawn += 1
            desk.stats.orphans_withdrawn += 1
        log.warning(
            "withdrew quote %s on RFQ %s: live at the venue, not in the book",
            listed.id,
            listed.rfq_id,
        )
        self._withdrawal(listed.rfq_id, why, f"{how.value}: not in the book", listed.id)

    def _gone(self, rfq_id: str, why: str) -> None:
        self._desk.quotes.remove(rfq_id)
        self._desk.book.release(rfq_id)
        self._desk.stats.withdrawn += 1
        self._withdrawal(rfq_id, why, "withdrawn")

    def _withdrawal(self, rfq_id: str, why: str, how: str, quote_id: str | None = None) -> None:
        self._audit(
            events.QuoteWithdrawal(
                rfq_id=rfq_id,
                why=why,
                result=how,
                quote_id=events.ABSENT if quote_id is None else quote_id,
            )
        )

    def _audit(self, event: events.Event) -> None:
        try:
            self._trail.write(event, self._clock.now())
        except AuditError as error:  # withdrawals go on even when the trail is broken
            log.error("audit write failed during a withdrawal: %s", error)  # said, no traceback


def _withdrawable(quote: OurQuote) -> bool:
    """Known live by id; one being withdrawn already is another pass's."""
    return quote.state is QuoteState.LIVE
