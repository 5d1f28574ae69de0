"""The simulated market behind `SimVenue`: the tape's RFQs arriving, our quotes expiring, and
each RFQ ending at its cancellation or deadline, where the fill model decides whether our
active quote trades. Every change is stamped with the instant it happened, so it does not
matter when it is processed: `catch_up` brings the market up to the clock, as the sandbox steps
its own.

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
from dataclasses import replace
from datetime import datetime

from quoter.backtest.changelog import ChangeLog
from quoter.backtest.fills import FillModel
from quoter.backtest.tape import Tape, TapeRfq
from quoter.clock import Clock
from quoter.domain import MyQuoteStatus, Quote, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.sandbox.market import our_price, touch
from quoter.sandbox.records import SimRfq, floor_ms, trade_of
from quoter.sandbox.store import Store

END, EXPIRE = 0, 1
KEPT_ENDED = 20_000


class SimMarket:
    def __init__(
        self, tape: Tape, clock: Clock, fills: FillModel, kept_ended: int = KEPT_ENDED
    ) -> None:
        self._tape = tape
        self._clock = clock
        self._fills = fills
        # No cap on RFQs: `shown` forgets them. Trades live in `self.trades`.
        self.store = Store(len(tape) + 1, 4 * kept_ended, 1)
        self._kept_ended = kept_ended
        self._shown_ended: deque[str] = deque()  # ended RFQs listed since they ended, oldest first
        self._shown_ended_ids: set[str] = set()
        self._entries: dict[str, TapeRfq] = {}
        self._next = 0  # tape index of the next arrival
        self._next_at = tape.arrival(0) if len(tape) else None
        self._events: list[tuple[datetime, int, int, str]] = []
        self._seq = itertools.count()
        self.log = ChangeLog(8 * kept_ended)
        self.quote_ids = random.Random("simvenue/quotes")
        self._trade_ids = random.Random("simvenue/trades")
        self.trades: list[Trade] = []
        self._traded_at: list[datetime] = []  # of each trade, ascending
        self.settled = 0

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
        return self._next >= len(self._tape) and self.settled >= len(self._tape)

    def entry(self, rfq_id: str) -> TapeRfq | None:
        """The tape row of an RFQ still open."""
        return self._entries.get(rfq_id)

    # what the venue reads

    def changed(
        self, changes: Iterator[tuple[datetime, str]], status: RfqStatus | None
    ) -> list[Rfq]:
        """The RFQs of a change-log read, each once, in its latest version."""
        rows: list[Rfq] = []
        seen: set[str] = set()
        for at, rfq_id in changes:
            sim = self.store.rfqs.get(rfq_id)
            if sim is None:
                continue  # ended long ago and forgotten
            rfq = sim.rfq
            if rfq.updated_at != at or rfq.id in seen:
                continue  # a later change of the same RFQ comes further on
            if status is None or rfq.status is status:
                seen.add(rfq.id)
                rows.append(rfq)
        return rows

    def shown(self, rfqs: Iterable[Rfq]) -> None:
        """These RFQs were listed to the engine: the ended ones may be forgotten in their turn."""
        for rfq in rfqs:
            if rfq.status is not RfqStatus.OPEN and rfq.id not in self._shown_ended_ids:
                self._shown_ended.append(rfq.id)
                self._shown_ended_ids.add(rfq.id)
        while len(self._shown_ended) > self._kept_ended:
            gone = self._shown_ended.popleft()
            self._shown_ended_ids.discard(gone)
            del self.store.rfqs[gone]

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

    # what the venue tells it

    def quoted(self, quote: Quote) -> None:
        """A new quote was placed: the RFQ changed, and the quote may run out before its end."""
        self.logged(quote.rfq_id)
        if quote.valid_until < self._end_at(self._entries[quote.rfq_id]):
            self._push(quote.valid_until, EXPIRE, quote.id)

    def logged(self, rfq_id: str) -> None:
        self.log.add(self.store.rfqs[rfq_id].rfq.updated_at, rfq_id)

    # time passing

    def catch_up(self) -> datetime:
        """Bring arrivals and ends up to the clock, in the order they happened."""
        now = floor_ms(self._clock.now())
        while True:
            arrival = self._next_at
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
        self.logged(entry.id)
        self._push(self._end_at(entry), END, entry.id)

    def _end_at(self, entry: TapeRfq) -> datetime:
        cancel, deadline = entry.cancel_at, entry.rfq.quote_deadline
        return cancel if cancel is not None and cancel < deadline else deadline

    def _push(self, at: datetime, kind: int, key: str) -> None:
        heapq.heappush(self._events, (at, next(self._seq), kind, key))

    def _set_quote(self, quote: Quote, status: QuoteStatus, at: datetime) -> None:
        self.store.put_quote(replace(quote, status=status, updated_at=max(at, quote.updated_at)))

    def _expire(self, quote_id: str, at: datetime) -> None:
        quote = self.store.quotes.get(quote_id)
        if quote is None or quote.status is not QuoteStatus.ACTIVE:
            return
        self._set_quote(quote, QuoteStatus.EXPIRED, at)
        sim = self.store.rfqs[quote.rfq_id]
        self.store.put_rfq(touch(sim, at, my_quote_status=MyQuoteStatus.EXPIRED))
        self.logged(sim.id)

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
            self.trades.append(trade_of(sim, quote, ours, at, self._trade_ids))
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
        self.logged(sim.id)
        del self._entries[sim.id]
        self.settled += 1
