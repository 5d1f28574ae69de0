"""The sandbox's state: RFQs, our quotes and trades, bounded. When a cap is reached the oldest
finished entry goes; open RFQs and active quotes are never evicted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import TypeVar

from quoter.domain import Quote, QuoteStatus, RfqStatus, Trade
from quoter.sandbox.records import SimRfq

V = TypeVar("V")


@dataclass(slots=True)
class LiveQuoteWatch:
    """Invariant checks for tests: never more than one active quote per RFQ."""

    max_per_rfq: int = 0
    duplicate_live: int = 0


@dataclass(slots=True)
class Store:
    max_rfqs: int
    max_quotes: int
    max_trades: int
    rfqs: dict[str, SimRfq] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    trades: dict[str, Trade] = field(default_factory=dict)
    watch: LiveQuoteWatch = field(default_factory=LiveQuoteWatch)
    quotes_created: int = 0
    _open: set[str] = field(default_factory=set)
    _active: dict[str, set[str]] = field(default_factory=dict)
    _by_client_id: dict[str, str] = field(default_factory=dict)

    # RFQs

    def has_room(self) -> bool:
        return len(self.rfqs) < self.max_rfqs or len(self._open) < len(self.rfqs)

    def add_rfq(self, sim: SimRfq) -> None:
        self.rfqs[sim.id] = sim
        self._track_open(sim)
        _evict(self.rfqs, self.max_rfqs, lambda s: s.rfq.status is not RfqStatus.OPEN)

    def put_rfq(self, sim: SimRfq) -> None:
        """Replace a stored RFQ in place (its position in the eviction order is kept)."""
        if sim.id not in self.rfqs:
            raise KeyError(sim.id)
        self.rfqs[sim.id] = sim
        self._track_open(sim)

    def _track_open(self, sim: SimRfq) -> None:
        if sim.rfq.status is RfqStatus.OPEN:
            self._open.add(sim.id)
        else:
            self._open.discard(sim.id)

    def open_rfqs(self) -> list[SimRfq]:
        return sorted((self.rfqs[i] for i in self._open), key=lambda s: (s.rfq.created_at, s.id))

    # quotes

    def quote_for_client_id(self, client_quote_id: str) -> Quote | None:
        quote_id = self._by_client_id.get(client_quote_id)
        return None if quote_id is None else self.quotes.get(quote_id)

    def active_quote(self, sim: SimRfq) -> Quote | None:
        if sim.latest_quote_id is None:
            return None
        quote = self.quotes.get(sim.latest_quote_id)
        return quote if quote is not None and quote.status is QuoteStatus.ACTIVE else None

    def add_quote(self, quote: Quote) -> None:
        self.quotes[quote.id] = quote
        self._by_client_id[quote.client_quote_id] = quote.id
        self.quotes_created += 1
        self._track_active(quote)
        evicted = _evict(self.quotes, self.max_quotes, lambda q: q.status is not QuoteStatus.ACTIVE)
        for old in evicted:
            self._by_client_id.pop(old.client_quote_id, None)

    def put_quote(self, quote: Quote) -> None:
        if quote.id not in self.quotes:
            raise KeyError(quote.id)
        self.quotes[quote.id] = quote
        self._track_active(quote)

    def _track_active(self, quote: Quote) -> None:
        live = self._active.setdefault(quote.rfq_id, set())
        if quote.status is QuoteStatus.ACTIVE:
            live.add(quote.id)
        else:
            live.discard(quote.id)
        self.watch.max_per_rfq = max(self.watch.max_per_rfq, len(live))
        if len(live) > 1:
            self.watch.duplicate_live += 1
        if not live:
            del self._active[quote.rfq_id]

    def live_quotes(self) -> int:
        return sum(len(ids) for ids in self._active.values())

    # trades

    def add_trade(self, trade: Trade) -> None:
        self.trades[trade.id] = trade
        _evict(self.trades, self.max_trades, lambda t: True)


def _evict(entries: dict[str, V], cap: int, finished: Callable[[V], bool]) -> list[V]:
    """Drop the oldest finished entries until `entries` fits in `cap`; returns what went."""
    excess = len(entries) - cap
    if excess <= 0:
        return []
    gone = list(islice((key for key, value in entries.items() if finished(value)), excess))
    return [entries.pop(key) for key in gone]


def updated_since(
    values: Iterable[V], since: datetime | None, updated: Callable[[V], datetime]
) -> list[V]:
    """With `since`: entries updated at or after it, oldest update first. Without: all entries,
    newest update first."""
    if since is None:
        return sorted(values, key=updated, reverse=True)
    return sorted((v for v in values if updated(v) >= since), key=updated)
