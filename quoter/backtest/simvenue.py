"""SimVenue: the `Venue` port in-process, on the engine's clock, serving a tape.

RFQs become visible when created-at <= now; quotes go through the sandbox's own submit/withdraw
(the contract's validation, supersede, idempotent client-quote-ids); each RFQ ends at its
cancellation or deadline, where the fill model decides whether our active quote trades. Every
change is stamped with the instant it happened, so it does not matter when it is processed: the
venue catches up with the clock on each call, as the sandbox steps its market. Each call first
takes a token from the usage-plan guard in its lane, as the HTTP client does, so the engine's
poll planning and quota behave as live.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from quoter.backtest.changelog import ChangeLog
from quoter.backtest.fills import FillModel
from quoter.backtest.tape import Tape, TapeRfq
from quoter.clock import Clock
from quoter.domain import (
    LoadShape,
    MyQuoteStatus,
    Page,
    Quote,
    QuoteRequest,
    QuoteStatus,
    Rfq,
    RfqStatus,
    Trade,
)
from quoter.sandbox import quoting
from quoter.sandbox.errors import ApiError, invalid_quote
from quoter.sandbox.jsonfields import FieldError
from quoter.sandbox.market import our_price, touch
from quoter.sandbox.records import SimRfq, floor_ms, trade_of
from quoter.sandbox.store import Store
from quoter.venue import errors
from quoter.venue.bucket import Lane
from quoter.venue.config import UsagePlanConfig
from quoter.venue.encode import quote_body
from quoter.venue.guard import GuardState, UsageGuard
from quoter.venue.ledger import DayEntry, QuotaLedger
from quoter.venue.stats import VenueStats

END, EXPIRE = 0, 1
# A replay forgets an ended RFQ once its end has been listed to the engine and this many more
# have ended since (finished quotes likewise, four times as many), so a long tape's replay stays
# bounded; the engine only asks what changed since its last poll. Trades are all kept.
KEPT_ENDED = 20_000
T = TypeVar("T")


class MemoryLedger(QuotaLedger):
    """The quota ledger without a file: a replay's spend lives and dies with the replay."""

    def __init__(self) -> None:
        super().__init__(Path("backtest-ledger-in-memory"), api_key="")

    def load(self, today: date) -> DayEntry:
        return DayEntry(today, 0)

    def save(self, entry: DayEntry) -> None:
        return None

    def record(self, entry: DayEntry, taken: int) -> DayEntry:
        return replace(entry, spent=entry.spent + taken)


def memory_guard(plan: UsagePlanConfig, clock: Clock) -> UsageGuard:
    return UsageGuard(plan, clock, MemoryLedger(), VenueStats())


class SimVenue:
    def __init__(
        self,
        tape: Tape,
        clock: Clock,
        fills: FillModel,
        guard: UsageGuard,
        kept_ended: int = KEPT_ENDED,
    ) -> None:
        self._tape = tape
        self._clock = clock
        self._fills = fills
        self.guard = guard
        # No cap on RFQs: `_forget` drops them. Trades live in `self.trades`.
        self.store = Store(len(tape) + 1, 4 * kept_ended, 1)
        self._kept_ended = kept_ended
        self._shown_ended: deque[str] = deque()  # ended RFQs listed since they ended, oldest first
        self._shown_ended_ids: set[str] = set()
        self._entries: dict[str, TapeRfq] = {}
        self._next = 0  # tape index of the next arrival
        self._next_at = tape.arrival(0) if len(tape) else None
        self._events: list[tuple[datetime, int, int, str]] = []
        self._seq = itertools.count()
        self._log = ChangeLog(8 * kept_ended)
        self._ids = random.Random("simvenue/quotes")
        self._trade_ids = random.Random("simvenue/trades")
        self.trades: list[Trade] = []
        self._traded_at: list[datetime] = []  # of each trade, ascending
        self.settled = 0

    # the driver's view

    def next_arrival(self) -> datetime | None:
        return self._next_at

    @property
    def arrived(self) -> int:
        """Tape RFQs that have arrived so far."""
        return self._next

    def done(self) -> bool:
        """Every tape RFQ has arrived and ended."""
        return self._next >= len(self._tape) and self.settled >= len(self._tape)

    def guard_state(self) -> GuardState:
        return self.guard.state()

    # the port

    async def list_rfqs(
        self,
        *,
        status: RfqStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Rfq]:
        await self.guard.acquire(Lane.POLL)
        self.catch_up()
        changes = None if updated_since is None else self._log.since(updated_since)
        if changes is None:  # all of them, or from before what the log keeps
            rows = [
                s.rfq
                for s in self.store.rfqs.values()
                if status in (None, s.rfq.status)
                and (updated_since is None or s.rfq.updated_at >= updated_since)
            ]
            rows.sort(key=lambda r: r.updated_at, reverse=updated_since is None)
        else:
            rows = self._changed(changes, status)
        shown = rows[skip : skip + limit]
        self._shown(shown)
        return Page(tuple(shown), len(rows), limit, skip)

    def _shown(self, rfqs: list[Rfq]) -> None:
        """Ended RFQs the engine has now been told of may be forgotten in their turn."""
        for rfq in rfqs:
            if rfq.status is not RfqStatus.OPEN and rfq.id not in self._shown_ended_ids:
                self._shown_ended.append(rfq.id)
                self._shown_ended_ids.add(rfq.id)
        while len(self._shown_ended) > self._kept_ended:
            gone = self._shown_ended.popleft()
            self._shown_ended_ids.discard(gone)
            del self.store.rfqs[gone]

    def _changed(
        self, changes: Iterator[tuple[datetime, str]], status: RfqStatus | None
    ) -> list[Rfq]:
        rows: list[Rfq] = []
        shown: set[str] = set()
        for at, rfq_id in changes:
            sim = self.store.rfqs.get(rfq_id)
            if sim is None:
                continue  # ended long ago and forgotten
            rfq = sim.rfq
            if rfq.updated_at != at or rfq.id in shown:
                continue  # a later change of the same RFQ comes further on
            if status is None or rfq.status is status:
                shown.add(rfq.id)
                rows.append(rfq)
        return rows

    async def get_rfq(self, rfq_id: str) -> Rfq:
        await self.guard.acquire(Lane.POLL)
        self.catch_up()
        return _translated(lambda: quoting.find_rfq(self.store, rfq_id)).rfq

    async def get_load_shape(self, rfq_id: str) -> LoadShape:
        await self.guard.acquire(Lane.SUBMIT)
        entry = self._entries.get(rfq_id)
        if entry is None or entry.shape is None:
            raise errors.NotFound(f"RFQ {rfq_id} has no load shape", status=404)
        return entry.shape

    async def submit_quote(self, request: QuoteRequest) -> Quote:
        await self.guard.acquire(Lane.SUBMIT)
        now = self.catch_up()

        def place() -> tuple[Quote, bool]:
            sim = quoting.find_rfq(self.store, request.rfq_id)
            try:  # the client's own body, as the venue reads it (without the JSON bytes)
                body = quoting.parse_quote(quote_body(request))
            except FieldError as error:
                raise invalid_quote(str(error)) from None
            return quoting.place(self.store, self._ids, sim, body, now)

        quote, created = _translated(place)
        if created:
            self._logged(request.rfq_id)
            end = self._end_at(self._entries[request.rfq_id])
            if quote.valid_until < end:
                self._push(quote.valid_until, EXPIRE, quote.id)
        return quote

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        await self.guard.acquire(Lane.WITHDRAW)
        now = self.catch_up()
        _translated(lambda: quoting.withdraw(self.store, rfq_id, quote_id, now))
        self._logged(rfq_id)

    async def list_quotes(
        self,
        *,
        status: QuoteStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Quote]:
        await self.guard.acquire(Lane.POLL)
        self.catch_up()
        rows = [
            q
            for q in self.store.quotes.values()
            if status in (None, q.status)
            and (updated_since is None or q.updated_at >= updated_since)
        ]
        rows.sort(key=lambda q: q.updated_at, reverse=updated_since is None)
        return Page(tuple(rows[skip : skip + limit]), len(rows), limit, skip)

    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]:
        await self.guard.acquire(Lane.POLL)
        self.catch_up()
        # Trades are made in time order: the window is a slice, newest first as the venue lists.
        low = 0 if traded_from is None else bisect.bisect_left(self._traded_at, traded_from)
        high = len(self.trades)
        if traded_to is not None:
            high = bisect.bisect_left(self._traded_at, traded_to)
        count = max(0, high - low)
        newest = high - skip
        rows = self.trades[max(low, newest - limit) : max(low, newest)]
        return Page(tuple(reversed(rows)), count, limit, skip)

    # the market

    def catch_up(self) -> datetime:
        """Bring arrivals and ends up to the clock, in the order they happened."""
        now = floor_ms(self._clock.now())
        while True:
            arrival = self.next_arrival()
            event = self._events[0][0] if self._events else None
            if arrival is not None and arrival <= now and (event is None or arrival <= event):
                self._arrive(self._tape.entry(self._next))
                self._next += 1
                more = self._next < len(self._tape)
                self._next_at = self._tape.arrival(self._next) if more else None
            elif event is not None and event <= now:
                at, _, kind, key = heapq.heappop(self._events)
                if kind == END:
                    self._end(self.store.rfqs[key], at)
                else:
                    self._expire(key, at)
            else:
                return now

    def _arrive(self, entry: TapeRfq) -> None:
        side = entry.requester_side
        price = entry.competitor_price
        sim = SimRfq(entry.rfq, None, price, price, side, entry.cancel_at)
        # The quote cap counts active quotes too: keep the finished ones beyond them.
        self.store.max_quotes = 4 * self._kept_ended + self._next - self.settled + 1
        self.store.add_rfq(sim)
        self._entries[entry.id] = entry
        self._logged(entry.id)
        self._push(self._end_at(entry), END, entry.id)

    def _end_at(self, entry: TapeRfq) -> datetime:
        cancel, deadline = entry.cancel_at, entry.rfq.quote_deadline
        return cancel if cancel is not None and cancel < deadline else deadline

    def _push(self, at: datetime, kind: int, key: str) -> None:
        heapq.heappush(self._events, (at, next(self._seq), kind, key))

    def _logged(self, rfq_id: str) -> None:
        self._log.add(self.store.rfqs[rfq_id].rfq.updated_at, rfq_id)

    def _set_quote(self, quote: Quote, status: QuoteStatus, at: datetime) -> None:
        self.store.put_quote(replace(quote, status=status, updated_at=max(at, quote.updated_at)))

    def _expire(self, quote_id: str, at: datetime) -> None:
        quote = self.store.quotes.get(quote_id)
        if quote is None or quote.status is not QuoteStatus.ACTIVE:
            return
        self._set_quote(quote, QuoteStatus.EXPIRED, at)
        sim = self.store.rfqs[quote.rfq_id]
        self.store.put_rfq(touch(sim, at, my_quote_status=MyQuoteStatus.EXPIRED))
        self._logged(sim.id)

    def _end(self, sim: SimRfq, at: datetime) -> None:
        entry = self._entries[sim.id]
        quote = self.store.active_quote(sim)
        mine = sim.rfq.my_quote_status
        if at < sim.rfq.quote_deadline:  # cancelled by the requester
            if quote is not None:
                self._set_quote(quote, QuoteStatus.LOST, at)
                mine = MyQuoteStatus.LOST
            sim = touch(sim, at, status=RfqStatus.CANCELLED, my_quote_status=mine)
        elif quote is not None and self._fills.wins(
            entry, ours := our_price(quote, sim.requester_side)
        ):
            self._set_quote(quote, QuoteStatus.ACCEPTED, at)
            self.trades.append(self._trade(sim, quote, ours, at))
            self._traded_at.append(at)
            sim = touch(sim, at, status=RfqStatus.TRADED, my_quote_status=MyQuoteStatus.WON)
        else:
            if quote is not None:
                self._set_quote(quote, QuoteStatus.LOST, at)
                mine = MyQuoteStatus.LOST
            traded = entry.competitor_price is not None  # a competitor took it
            status = RfqStatus.TRADED if traded else RfqStatus.EXPIRED
            sim = touch(sim, at, status=status, my_quote_status=mine)
        self.store.put_rfq(sim)
        self._logged(sim.id)
        del self._entries[sim.id]
        self.settled += 1

    def _trade(self, sim: SimRfq, quote: Quote, price: float, at: datetime) -> Trade:
        return trade_of(sim, quote, price, at, self._trade_ids)


def _translated(call: Callable[[], T]) -> T:
    """The sandbox's API errors as the HTTP client would raise them."""
    try:
        return call()
    except ApiError as error:
        kind: type[errors.VenueError] = errors.QuoteRejected
        if error.status == 404:
            kind = errors.NotFound
        elif error.code == "RFQ_NOT_OPEN":
            kind = errors.RfqNotOpen
        elif error.code == "QUOTE_NOT_ACTIVE":
            kind = errors.QuoteNotActive
        raise kind(error.message, status=error.status, code=error.code) from None
