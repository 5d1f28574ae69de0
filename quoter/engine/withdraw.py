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
from quoter.domain import Quote
from quoter.engine.audit import AuditError
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.state import EngineContext
from quoter.engine.sweep import SweepResult, Withdrawal, sweep
from quoter.venue import errors

log = logging.getLogger(__name__)

SWEEP_TIMEOUT_S = 10.0
RETRY_PASS_S = 1.0  # a kill's pass that could not finish is run again after this pause

Covers = Callable[[OurQuote], bool]


def everything(quote: OurQuote) -> bool:
    return True


class Withdrawer:
    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx

    async def run(self) -> None:
        """Owned by the engine: withdraw whatever the kill switch covers, each time woken, and
        again until the venue lists nothing the kills cover."""
        ctx = self._ctx
        while True:
            await ctx.withdraw_wanted.wait()
            ctx.withdraw_wanted.clear()
            if not ctx.killswitch.kills:
                continue  # lifted meanwhile, or woken by a condition: nothing latched to carry out
            result = await self.sweep("kill", ctx.must_withdraw)
            if not result.complete:
                ctx.withdraw_wanted.set()
                await ctx.clock.sleep(RETRY_PASS_S)

    async def sweep(
        self, why: str, covers: Covers, timeout_s: float = SWEEP_TIMEOUT_S
    ) -> SweepResult:
        """The book's quotes that `covers` accepts, then the venue's list, until it lists none
        that `covers` accepts (nor any the book does not know)."""
        ctx = self._ctx
        known = [q for q in ctx.quotes if covers(q) and q.quote_id and _withdrawable(q)]
        await asyncio.gather(*(self._withdraw_known(q, why) for q in known))
        result = await sweep(
            ctx.venue,
            ctx.clock,
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
                possibly_live=len(ctx.quotes.unknown()),
            )
        )
        return result

    async def _withdraw_known(self, quote: OurQuote, why: str) -> None:
        """One try by the id we know; what fails is left to the sweep, which lists it again."""
        ctx = self._ctx
        rfq_id, quote_id = quote.rfq.id, quote.quote_id
        assert quote_id is not None
        ctx.quotes.mark(rfq_id, QuoteState.WITHDRAWING)
        try:
            await ctx.venue.withdraw_quote(rfq_id, quote_id)
        except (errors.QuoteNotActive, errors.NotFound):
            # Already gone: expired, or accepted in a race; the RFQ poll tells which.
            self._withdrawal(rfq_id, why, "not-active")
        except errors.VenueError as error:
            ctx.stats.withdraw_failures += 1
            ctx.quotes.mark(rfq_id, quote.state)
            log.warning("withdrawal of %s failed (%s)", rfq_id, type(error).__name__)
        else:
            self._gone(rfq_id, why)

    def _covers(self, listed: Quote, covers: Covers) -> bool:
        mine = self._ctx.quotes.get(listed.rfq_id)
        # Not in the book: an orphan no one else would withdraw. A quote the book replaced by
        # a requote goes by its RFQ's scope.
        return mine is None or covers(mine)

    def _swept(self, listed: Quote, how: Withdrawal, why: str) -> None:
        ctx = self._ctx
        mine = ctx.quotes.get(listed.rfq_id)
        if mine is not None and mine.client_quote_id == listed.client_quote_id:
            if how is Withdrawal.WITHDRAWN:
                self._gone(listed.rfq_id, why)
            else:
                self._withdrawal(listed.rfq_id, why, "not-active")
            return
        if how is Withdrawal.WITHDRAWN:
            ctx.stats.withdrawn += 1
            ctx.stats.orphans_withdrawn += 1
        log.warning(
            "withdrew quote %s on RFQ %s: live at the venue, not in the book",
            listed.id,
            listed.rfq_id,
        )
        self._withdrawal(listed.rfq_id, why, f"{how.value}: not in the book", listed.id)

    def _gone(self, rfq_id: str, why: str) -> None:
        self._ctx.quotes.remove(rfq_id)
        self._ctx.book.release(rfq_id)
        self._ctx.stats.withdrawn += 1
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
            self._ctx.audit.write(event, self._ctx.clock.now())
        except AuditError:  # withdrawals go on even when the trail is broken
            log.exception("audit write failed during a withdrawal")


def _withdrawable(quote: OurQuote) -> bool:
    """Known live by id; one being withdrawn already is another pass's."""
    return quote.state is QuoteState.LIVE
