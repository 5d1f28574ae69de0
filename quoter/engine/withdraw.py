"""Withdrawing our quotes: every quote a kill covers, concurrently, in the reserved lane,
retried until the venue confirms it gone or the quote expires by itself."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from quoter.domain import QuoteStatus
from quoter.engine.audit import AuditError
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.state import EngineContext
from quoter.venue import errors

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.1
MAX_PAUSE_S = 5.0


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
                # Its state before the mark: an unknown outcome is read, not waited for.
                unknown = quote.state is QuoteState.UNKNOWN
                group.create_task(self._withdraw_one(quote.rfq.id, why, unknown=unknown))

    async def _withdraw_one(self, rfq_id: str, why: str, *, unknown: bool) -> None:
        """Until the venue confirms the quote gone or it expires by itself."""
        ctx = self._ctx
        failures = 0
        while True:
            quote = ctx.quotes.get(rfq_id)
            if quote is None or _expired(quote, ctx.clock.now()):
                self._gone(rfq_id, why, "expired" if quote else "closed")
                return
            try:
                unknown = unknown or quote.state is QuoteState.UNKNOWN
                quote_id = quote.quote_id or (await self._find(quote) if unknown else None)
                if quote_id is None and unknown:
                    self._gone(rfq_id, why, "never created")
                    return
                if quote_id is not None:
                    await ctx.venue.withdraw_quote(rfq_id, quote_id)
                    self._gone(rfq_id, why, "withdrawn")
                    ctx.stats.withdrawn += 1
                    return
            except (errors.QuoteNotActive, errors.NotFound):
                # Already gone: expired, or accepted in a race; the RFQ poll tells which.
                self._audit(rfq_id, why, "not-active")
                return
            except errors.VenueError as error:
                failures += 1
                ctx.stats.withdraw_failures += 1
                log.warning("withdrawal of %s failed (%s); retrying", rfq_id, type(error).__name__)
            # In flight (its answer gives the id) or failed: back off, so a venue that is down
            # does not eat the withdrawal reserve.
            await ctx.clock.sleep(min(RETRY_PAUSE_S * 2**failures, MAX_PAUSE_S))

    async def _find(self, quote: OurQuote) -> str | None:
        """The venue's id of a quote whose submit went unanswered: read, never guess."""
        since = quote.sent_at - timedelta(seconds=1)
        page = await self._ctx.venue.list_quotes(updated_since=since, limit=100)
        found = [q for q in page.items if q.client_quote_id == quote.client_quote_id]
        if found and found[0].status is QuoteStatus.ACTIVE:
            return found[0].id
        return None

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
