"""The simulated market behind `SimVenue`: the tape's RFQs arriving, our quotes placed,
superseded, withdrawn and expiring, and each RFQ ending at its cancellation or deadline, where
the fill model decides whether our active quote trades. Every change is stamped with the
instant it happened, so it does not matter when it is processed: `catch_up` brings the market
up to the clock, as the sandbox steps its own.

Lean, for replays: it keeps only what settles an RFQ (the RFQ as the venue shows it, our quotes,
the latest quote of each RFQ) and applies the contract's rules (the sandbox's `check_quote`) to
the request as the client sends it (3 decimals, milliseconds), without the JSON body round trip,
the sandbox's store or its `touch`; the live sandbox (a real HTTP server) keeps its own. A
change builds the new `Rfq` or `Quote` directly, not through `dataclasses.replace`. Refusals are the contract's `ApiError`s, which
`SimVenue` maps as the HTTP client would.

Bounded for long tapes: an ended RFQ is forgotten once its end has been shown to the engine and
`kept_ended` more have ended since (finished quotes likewise, four times as many); the change
log keeps what the engine's "updated since" reads need. Trades are all kept, for the results.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from quoter.backtest.changelog import ChangeLog
from quoter.backtest.fills import FillModel
from quoter.backtest.tape import Tape, TapeRfq
from quoter.clock import Clock
from quoter.domain import (
    MyQuoteStatus,
    Price,
    Quote,
    QuoteRequest,
    QuoteStatus,
    Rfq,
    RfqStatus,
    Trade,
)
from quoter.sandbox.errors import ApiError, invalid_quote, not_found
from quoter.sandbox.market import our_price
from quoter.sandbox.quoting import QuoteBody, check_quote
from quoter.sandbox.records import floor_ms, new_hex_id, trade_of

END, EXPIRE = 0, 1
KEPT_ENDED = 20_000
CLIENT_QUOTE_ID_MAX = 100
NEVER = datetime.max.replace(tzinfo=UTC)


class SimMarket:
    def __init__(
        self, tape: Tape, clock: Clock, fills: FillModel, kept_ended: int = KEPT_ENDED
    ) -> None:
        self._tape = tape
        self._length = len(tape)
        self._clock = clock
        self._fills = fills
        self.rfqs: dict[str, Rfq] = {}  # as the venue shows them, until forgotten
        self.quotes: dict[str, Quote] = {}  # ours, in the order they were placed
        self._latest: dict[str, str] = {}  # RFQ id -> its latest quote's id
        self._by_client_id: dict[str, str] = {}
        self._kept_ended = kept_ended
        self._shown_ended: deque[str] = deque()  # ended RFQs listed since they ended, oldest first
        self._shown_ended_ids: set[str] = set()
        self._entries: dict[str, TapeRfq] = {}
        self._next = 0  # tape index of the next arrival
        self._next_at = tape.arrival(0) if len(tape) else None
        self._events: list[tuple[datetime, int, int, str]] = []
        self._seq = itertools.count()
        self.log = ChangeLog(8 * kept_ended)
        self._quote_ids = random.Random("simvenue/quotes")
        self._trade_ids = random.Random("simvenue/trades")
        self.trades: list[Trade] = []
        self._traded_at: list[datetime] = []  # of each trade, ascending
        self.settled = 0
        self._quote_cap = 4 * kept_ended + 1
        # catch_up's memory: the instant last read and its millisecond floor, and the earliest
        # arrival or end still to come (nothing to do before it).
        self._caught_at: datetime | None = None
        self._caught_ms = NEVER
        self._due_at = NEVER if self._next_at is None else self._next_at

    # where the tape stands

    @property
    def tape(self) -> Tape:
        return self._tape

    @property
    def arrived(self) -> int:
        """Tape RFQs that have arrived so far."""
        return self._next

    def done(self) -> bool:
        """Every tape RFQ has arrived and ended."""
        return self._next >= self._length and self.settled >= self._length

    def entry(self, rfq_id: str) -> TapeRfq | None:
        """The tape row of an RFQ still open."""
        return self._entries.get(rfq_id)

    # what the venue reads

    def rfq(self, rfq_id: str) -> Rfq:
        rfq = self.rfqs.get(rfq_id)
        if rfq is None:
            raise not_found(f"no RFQ {rfq_id}")
        return rfq

    def changed(
        self, changes: Iterator[tuple[datetime, str]], status: RfqStatus | None
    ) -> list[Rfq]:
        """The RFQs of a change-log read, each once, in its latest version: an RFQ forgotten
        (ended long ago) is left out, and so is a change of one that changed again later. One
        comprehension, keyed by id (the first of an RFQ's changes at its latest instant sets its
        place), rather than a set and a list asked for each change of every poll."""
        rfqs = self.rfqs
        latest = {
            rfq_id: rfq
            for at, rfq_id in changes
            if (rfq := rfqs.get(rfq_id)) is not None
            and rfq.updated_at == at
            and (status is None or rfq.status is status)
        }
        return list(latest.values())

    def shown(self, rfqs: Iterable[Rfq]) -> None:
        """These RFQs were listed to the engine: the ended ones may be forgotten in their turn."""
        for rfq in rfqs:
            if rfq.status is not RfqStatus.OPEN and rfq.id not in self._shown_ended_ids:
                self._shown_ended.append(rfq.id)
                self._shown_ended_ids.add(rfq.id)
        while len(self._shown_ended) > self._kept_ended:
            gone = self._shown_ended.popleft()
            self._shown_ended_ids.discard(gone)
            del self.rfqs[gone]
            self._latest.pop(gone, None)

    def trades_between(
        self, low: datetime | None, high: datetime | None, limit: int, skip: int
    ) -> tuple[list[Trade], int]:
        """A page of the trades in [low, high), newest first as the venue lists, and how many
        there are: trades are made in time order, so the window is a slice."""
        start = 0 if low is None else bisect.bisect_left(self._traded_at, low)
        end = len(self.trades) if high is None else bisect.bisect_left(self._traded_at, high)
        newest = end - skip
        rows = self.trades[max(start, newest - limit) : max(start, newest)]
        return rows[::-1], max(0, end - start)

    # what the engine does

    def place(self, request: QuoteRequest, now: datetime) -> tuple[Quote, bool]:
        """Our quote on an RFQ, by the contract's rules: an unknown RFQ 404; a known
        client-quote-id returns the original (False: not created), even once the RFQ has
        closed; an RFQ not open 409; prices and valid-until 422. It supersedes the RFQ's
        active quote. Prices as the client sends them, rounded to 3 decimals."""
        rfq_id = request.rfq_id
        rfq = self.rfq(rfq_id)
        client_id = request.client_quote_id
        if not client_id or len(client_id) > CLIENT_QUOTE_ID_MAX:
            raise invalid_quote(
                "client-quote-id must be a non-empty string of at most "
                f"{CLIENT_QUOTE_ID_MAX} characters"
            )
        known_id = self._by_client_id.get(client_id)
        if known_id is not None:
            known = self.quotes[known_id]
            if known.rfq_id != rfq_id:
                raise invalid_quote("client-quote-id was already used on another RFQ")
            return known, False
        if rfq.status is not RfqStatus.OPEN:
            raise ApiError(409, "RFQ_NOT_OPEN", f"RFQ {rfq_id} is {rfq.status.value}")
        price, bid, ask = request.price, request.bid, request.ask  # one price, or bid and ask
        price = None if price is None else _sent(price)
        bid = None if bid is None else _sent(bid)
        ask = None if ask is None else _sent(ask)
        valid_until = floor_ms(request.valid_until)
        # The contract's rules on the body as the venue reads it, without the JSON round trip.
        check_quote(QuoteBody(client_id, price, bid, ask, valid_until), rfq, now)
        previous = self._active(rfq_id)
        if previous is not None:
            self.quotes[previous.id] = _quote_now(previous, QuoteStatus.SUPERSEDED, now)
        quote_id = new_hex_id(self._quote_ids, "q")
        quote = Quote(
            id=quote_id,
            rfq_id=rfq_id,
            client_quote_id=client_id,
            status=QuoteStatus.ACTIVE,
            price=price,
            bid=bid,
            ask=ask,
            valid_until=valid_until,
            created_at=now,
            updated_at=now,
        )
        self._add_quote(quote)
        self._put(_rfq_now(rfq, now, rfq.status, MyQuoteStatus.QUOTED))
        self._latest[rfq_id] = quote_id
        if valid_until < self._end_at(self._entries[rfq_id]):
            self._push(valid_until, EXPIRE, quote_id)
        return quote, True

    def withdraw(self, rfq_id: str, quote_id: str, now: datetime) -> None:
        rfq = self.rfq(rfq_id)
        quote = self.quotes.get(quote_id)
        if quote is None or quote.rfq_id != rfq_id:
            raise not_found(f"no quote {quote_id} on RFQ {rfq_id}")
        if quote.status is not QuoteStatus.ACTIVE:
            raise ApiError(409, "QUOTE_NOT_ACTIVE", f"quote {quote_id} is {quote.status.value}")
        self.quotes[quote_id] = _quote_now(quote, QuoteStatus.WITHDRAWN, now)
        self._put(_rfq_now(rfq, now, rfq.status, MyQuoteStatus.WITHDRAWN))

    def _put(self, rfq: Rfq) -> None:
        """`rfq`'s new version, as the venue shows it from now on, and in the change log."""
        self.rfqs[rfq.id] = rfq
        self.log.add(rfq.updated_at, rfq.id)

    def _active(self, rfq_id: str) -> Quote | None:
        quote_id = self._latest.get(rfq_id)
        quote = None if quote_id is None else self.quotes.get(quote_id)
        return quote if quote is not None and quote.status is QuoteStatus.ACTIVE else None

    def _add_quote(self, quote: Quote) -> None:
        """Kept, with the oldest finished quotes dropped beyond the cap (active ones stay)."""
        quotes = self.quotes
        quotes[quote.id] = quote
        self._by_client_id[quote.client_quote_id] = quote.id
        excess = len(quotes) - self._quote_cap
        if excess <= 0:
            return
        gone = list(
            itertools.islice(
                (k for k, q in quotes.items() if q.status is not QuoteStatus.ACTIVE), excess
            )
        )
        for key in gone:
            self._by_client_id.pop(quotes.pop(key).client_quote_id, None)

    # time passing

    def catch_up(self) -> datetime:
        """Bring arrivals and ends up to the clock, in the order they happened. Called on every
        venue call, several times an instant: the instant's millisecond floor is kept, and an
        instant before the next arrival and the next end returns at once."""
        at = self._clock.now()
        if at is not self._caught_at:
            self._caught_at, self._caught_ms = at, floor_ms(at)
        now = self._caught_ms
        if self._due_at > now:
            return now
        while True:
            arrival = self._next_at
            event = self._events[0][0] if self._events else None
            if arrival is not None and arrival <= now and (event is None or arrival <= event):
                self._arrive(self._tape.entry(self._next))
                self._next += 1
                more = self._next < self._length
                self._next_at = self._tape.arrival(self._next) if more else None
            elif event is not None and event <= now:
                at, _, kind, key = heapq.heappop(self._events)
                if kind == END:
                    self._end(key, at)
                else:
                    self._expire(key, at)
            else:
                self._due_at = _earliest(self._next_at, event)
                return now

    def _arrive(self, entry: TapeRfq) -> None:
        # The quote cap counts active quotes too: keep the finished ones beyond them.
        self._quote_cap = 4 * self._kept_ended + self._next - self.settled + 1
        self._put(entry.rfq)
        self._entries[entry.id] = entry
        self._push(self._end_at(entry), END, entry.id)

    def _end_at(self, entry: TapeRfq) -> datetime:
        cancel, deadline = entry.cancel_at, entry.rfq.quote_deadline
        return cancel if cancel is not None and cancel < deadline else deadline

    def _push(self, at: datetime, kind: int, key: str) -> None:
        heapq.heappush(self._events, (at, next(self._seq), kind, key))
        if at < self._due_at:
            self._due_at = at

    def _settle_quote(self, quote: Quote, status: QuoteStatus, at: datetime) -> None:
        updated = quote.updated_at
        self.quotes[quote.id] = _quote_now(quote, status, updated if updated > at else at)

    def _expire(self, quote_id: str, at: datetime) -> None:
        quote = self.quotes.get(quote_id)
        if quote is None or quote.status is not QuoteStatus.ACTIVE:
            return
        self._settle_quote(quote, QuoteStatus.EXPIRED, at)
        rfq = self.rfqs[quote.rfq_id]
        self._put(_rfq_now(rfq, at, rfq.status, MyQuoteStatus.EXPIRED))

    def _end(self, rfq_id: str, at: datetime) -> None:
        entry = self._entries.pop(rfq_id)
        rfq = self.rfqs[rfq_id]
        quote = self._active(rfq_id)
        mine = rfq.my_quote_status
        if at < rfq.quote_deadline:  # cancelled by the requester
            if quote is not None:
                self._settle_quote(quote, QuoteStatus.LOST, at)
                mine = MyQuoteStatus.LOST
            status = RfqStatus.CANCELLED
        elif quote is not None and self._fills.wins(
            entry, ours := our_price(quote, entry.requester_side)
        ):
            self._settle_quote(quote, QuoteStatus.ACCEPTED, at)
            self.trades.append(
                trade_of(rfq, entry.requester_side, quote, ours, at, self._trade_ids)
            )
            self._traded_at.append(at)
            status, mine = RfqStatus.TRADED, MyQuoteStatus.WON
        else:
            if quote is not None:
                self._settle_quote(quote, QuoteStatus.LOST, at)
                mine = MyQuoteStatus.LOST
            traded = entry.competitor_price is not None  # a competitor took it
            status = RfqStatus.TRADED if traded else RfqStatus.EXPIRED
        self._put(_rfq_now(rfq, at, status, mine))
        self.settled += 1


def _earliest(arrival: datetime | None, event: datetime | None) -> datetime:
    if arrival is None:
        return NEVER if event is None else event
    return arrival if event is None or arrival <= event else event


def _sent(price: Price) -> Price:
    """A price as the client sends it: the venue takes at most 3 decimals (the engine's prices
    have no more: then the price itself)."""
    sent = float(round(price.value, 3))
    return price if sent == price.value else Price(sent, price.currency)


def _rfq_now(rfq: Rfq, at: datetime, status: RfqStatus, mine: MyQuoteStatus) -> Rfq:
    """`rfq` with `status` and `mine`; `updated-at` moves to `at` only if what the API shows
    changed. Built field by field: `dataclasses.replace` costs several times as much."""
    if rfq.status is status and rfq.my_quote_status is mine:
        return rfq
    updated = rfq.updated_at
    return Rfq(
        id=rfq.id,
        short_id=rfq.short_id,
        venue=rfq.venue,
        status=status,
        created_at=rfq.created_at,
        updated_at=updated if updated > at else at,  # max(at, updated-at)
        quote_deadline=rfq.quote_deadline,
        requester_id=rfq.requester_id,
        requester_name=rfq.requester_name,
        action=rfq.action,
        quote_type=rfq.quote_type,
        instrument=rfq.instrument,
        quantity_mw=rfq.quantity_mw,
        shape_ref=rfq.shape_ref,
        currency=rfq.currency,
        my_quote_status=mine,
    )


def _quote_now(quote: Quote, status: QuoteStatus, at: datetime) -> Quote:
    """`quote` with `status`, updated at `at`."""
    return Quote(
        id=quote.id,
        rfq_id=quote.rfq_id,
        client_quote_id=quote.client_quote_id,
        status=status,
        price=quote.price,
        bid=quote.bid,
        ask=quote.ask,
        valid_until=quote.valid_until,
        created_at=quote.created_at,
        updated_at=at,
    )
