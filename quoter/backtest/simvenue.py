"""SimVenue: the `Venue` port in-process, on the engine's clock, serving a tape through a
`SimMarket`.

RFQs become visible when created-at <= now; quotes are placed and withdrawn by the market with
the contract's rules (supersede, idempotent client-quote-ids, what a body may hold), on the
request as our client would send it. The market catches up with the clock on every call. Each call first takes a
token from the usage-plan guard in its lane, as the HTTP client does, so the engine's poll
planning and quota behave as live: at once when there is one (`take_now`, no coroutine of the
guard's for each simulated request), else by waiting in the guard's queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path

from quoter.backtest.simmarket import SimMarket
from quoter.basics.usage import GuardState, Lane
from quoter.clock import Clock
from quoter.domain import LoadShape, Page, Quote, QuoteRequest, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.sandbox.errors import ApiError
from quoter.sandbox.store import updated_since as in_update_order
from quoter.venue import errors
from quoter.venue.config import UsagePlanConfig
from quoter.venue.guard import UsageGuard
from quoter.venue.ledger import DayEntry, QuotaLedger
from quoter.venue.stats import VenueStats


class MemoryLedger(QuotaLedger):
    """The quota ledger without a file: a replay's spend lives and dies with the replay."""

    def __init__(self) -> None:
        super().__init__(Path("backtest-ledger-in-memory"), api_key="")

    def load(self, today: date) -> DayEntry:
        return DayEntry(today, 0)

    def save(self, entry: DayEntry) -> None:
        return None

    def record(self, entry: DayEntry, taken: int, now: datetime | None = None) -> DayEntry:
        spent = entry.spent + taken
        return DayEntry(entry.day, spent, entry.exhausted, entry.bucket_level, entry.bucket_at)

    def start_afresh(self, entry: DayEntry) -> None:
        return None


def memory_guard(plan: UsagePlanConfig, clock: Clock) -> UsageGuard:
    return UsageGuard(plan, clock, MemoryLedger(), VenueStats())


class SimVenue:
    def __init__(self, market: SimMarket, guard: UsageGuard) -> None:
        self.market = market
        self.guard = guard
        # The engine's quota asks (the fail-safe twice a poll, the poll allowance once) go to
        # the guard's own methods, bound here: no call of the venue's in between.
        self.ledger_failsafe: Callable[[], str | None] = guard.ledger_failsafe
        self.poll_allowance: Callable[[], tuple[date, int]] = partial(guard.allowance, Lane.POLL)
        self.rate_limited_answers: Callable[[float], tuple[int, int]] = guard.rate_limited_answers

    def guard_state(self) -> GuardState:
        return self.guard.state()

    async def list_rfqs(
        self,
        *,
        status: RfqStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Rfq]:
        if not self.guard.take_now(Lane.POLL):
            await self.guard.acquire(Lane.POLL)
        market = self.market
        market.catch_up()
        changes = None if updated_since is None else market.log.since(updated_since)
        if changes is None:  # all of them, or from before what the log keeps
            kept = (r for r in market.rfqs.values() if status in (None, r.status))
            rows = in_update_order(kept, updated_since, lambda r: r.updated_at)
        else:
            rows = market.changed(changes, status)
        shown = rows[skip : skip + limit]
        market.shown(shown)
        return Page(tuple(shown), len(rows), limit, skip)

    async def get_rfq(self, rfq_id: str) -> Rfq:
        if not self.guard.take_now(Lane.POLL):
            await self.guard.acquire(Lane.POLL)
        self.market.catch_up()
        try:
            return self.market.rfq(rfq_id)
        except ApiError as error:
            raise _translated(error, "get_rfq") from None

    async def get_load_shape(self, rfq_id: str) -> LoadShape:
        if not self.guard.take_now(Lane.SUBMIT):
            await self.guard.acquire(Lane.SUBMIT)
        entry = self.market.entry(rfq_id)
        if entry is None or entry.shape is None:
            raise errors.NotFound(f"RFQ {rfq_id} has no load shape", status=404)
        return entry.shape

    async def submit_quote(self, request: QuoteRequest) -> Quote:
        if not self.guard.take_now(Lane.SUBMIT):
            await self.guard.acquire(Lane.SUBMIT)
        market = self.market
        now = market.catch_up()
        try:
            quote, _ = market.place(request, now)
        except ApiError as error:
            raise _translated(error, "submit_quote") from None
        return quote

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        if not self.guard.take_now(Lane.WITHDRAW):
            await self.guard.acquire(Lane.WITHDRAW)
        market = self.market
        now = market.catch_up()
        try:
            market.withdraw(rfq_id, quote_id, now)
        except ApiError as error:
            raise _translated(error, "withdraw_quote") from None

    async def list_quotes(
        self,
        *,
        status: QuoteStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
        for_withdrawal: bool = False,
    ) -> Page[Quote]:
        lane = Lane.WITHDRAW if for_withdrawal else Lane.POLL
        if not self.guard.take_now(lane):
            await self.guard.acquire(lane)
        self.market.catch_up()
        kept = (q for q in self.market.quotes.values() if status in (None, q.status))
        rows = in_update_order(kept, updated_since, lambda q: q.updated_at)
        return Page(tuple(rows[skip : skip + limit]), len(rows), limit, skip)

    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]:
        if not self.guard.take_now(Lane.POLL):
            await self.guard.acquire(Lane.POLL)
        self.market.catch_up()
        rows, count = self.market.trades_between(traded_from, traded_to, limit, skip)
        return Page(tuple(rows), count, limit, skip)


def _translated(error: ApiError, endpoint: str) -> errors.VenueError:
    """The sandbox's API error as the HTTP client would raise it. (Each call catches its own:
    a wrapper taking the call as a lambda cost two calls on every quote sent.)"""
    return errors.venue_error(error.status, error.code, error.message, endpoint)
