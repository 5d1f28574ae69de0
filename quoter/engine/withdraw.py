"""Withdrawing our quotes: every quote a kill covers, concurrently, in the reserved lane,
retried until the venue confirms it gone or the quote expires by itself."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from quoter.engine.audit import AuditError
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.state import EngineContext
from quoter.venue import errors

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.2


class Withdrawer:
    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx

    async def run(self) -> None:
        """Owned by the engine: withdraw whatever the kill switch covers, each time woken."""
        ctx = self._ctx
        while True:
            await ctx.withdraw_wanted.wait()
            ctx.withdraw_wanted.clear()
            await self.withdraw([q for q in ctx.quotes if ctx.must_withdraw(q)], "kill")

    async def withdraw(self, quotes: list[OurQuote], why: str) -> None:
        """Withdraw `quotes` at once; returns when each is gone, expired or given up on."""
        targets = [q for q in quotes if q.state is not QuoteState.WITHDRAWING]
        if not targets:
            return
        for quote in targets:
            self._ctx.quotes.mark(quote.rfq.id, QuoteState.WITHDRAWING)
        async with asyncio.TaskGroup() as group:
            for quote in targets:
                group.create_task(self._withdraw_one(quote.rfq.id, why))

    async def _withdraw_one(self, rfq_id: str, why: str) -> None:
        ctx = self._ctx
        give_up_s = ctx.clock.monotonic() + ctx.config.kill.withdraw_timeout_s
        while ctx.clock.monotonic() < give_up_s:
            quote = ctx.quotes.get(rfq_id)
            if quote is None or _expired(quote, ctx.clock.now()):
                self._gone(rfq_id, why, "expired" if quote else "closed")
                return
            if quote.quote_id is None:
                await ctx.clock.sleep(RETRY_PAUSE_S)  # in flight or unknown: wait for its id
                continue
            try:
                await ctx.venue.withdraw_quote(rfq_id, quote.quote_id)
            except (errors.QuoteNotActive, errors.NotFound):
                # Already gone: expired, or accepted in a race; the RFQ poll tells which.
                ctx.quotes.mark(rfq_id, QuoteState.WITHDRAWING)
                self._audit(rfq_id, why, "not-active")
                return
            except errors.VenueError as error:
                ctx.stats.withdraw_failures += 1
                log.warning("withdrawal of %s failed (%s); retrying", rfq_id, type(error).__name__)
                await ctx.clock.sleep(RETRY_PAUSE_S)
                continue
            self._gone(rfq_id, why, "withdrawn")
            ctx.stats.withdrawn += 1
            return
        log.error("gave up withdrawing the quote on RFQ %s", rfq_id)
        self._audit(rfq_id, why, "gave-up")

    def _gone(self, rfq_id: str, why: str, how: str) -> None:
        self._ctx.quotes.remove(rfq_id)
        self._ctx.book.release(rfq_id)
        self._audit(rfq_id, why, how)

    def _audit(self, rfq_id: str, why: str, how: str) -> None:
        try:
            self._ctx.audit.record(
                "withdrawal", self._ctx.clock.now(), {"rfq-id": rfq_id, "why": why, "result": how}
            )
        except AuditError:  # withdrawals go on even when the trail is broken
            log.exception("audit write failed during a withdrawal")


def _expired(quote: OurQuote, now: datetime) -> bool:
    return now >= quote.valid_until
