"""The engine's one owned, mutable state: the RFQs it follows (one record each), our quotes,
the risk book, the counters, the poll cursor and the strategies quoting. No I/O."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from quoter.domain import LoadShape, Rfq, RfqStatus
from quoter.engine.quotes import QuoteBook
from quoter.engine.state import StrategySlot
from quoter.engine.stats import EngineStats
from quoter.risk.book import RiskBook
from quoter.risk.config import RiskConfig

# What tells one listing of an RFQ from the next: (updated_at, status, my_quote_status).
Version = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Hold:
    """Why an open RFQ was declined for something that may pass while it is still open (a
    kill, a condition, the market's hours, the curves, a strategy's fault), and what it was
    declined under: it is priced again once that has changed."""

    reason: str
    curve_id: str
    strategy: StrategySlot


@dataclass(slots=True)
class OpenRfq:
    """An open RFQ the engine follows: its latest listing, the version that listing had, when
    the engine first saw it (monotonic s; or saw it free to quote again after a hold), its load
    shape once fetched, and its hold while a decline that may pass keeps it unquoted."""

    rfq: Rfq
    version: Version
    seen_at_s: float
    shape: LoadShape | None = None
    hold: Hold | None = None


@dataclass(slots=True)
class EndedRfq:
    """An RFQ the venue listed ended: how, and its quote deadline (it is remembered past it).
    `refused` is the listing that said it was open again, once one has (refused once)."""

    status: RfqStatus
    quote_deadline: datetime
    refused: Version | None = None


class OpenRfqs:
    """The RFQs the engine follows, by id: `add` and `forget` (or `end`) are the one way in and
    out, so nothing of a forgotten RFQ (its listing, version, shape, when seen) is left behind.
    The ids of RFQs seen ended are kept a while apart: an ended RFQ never opens again."""

    __slots__ = ("_by_id", "_ended", "ended", "get", "held")

    def __init__(self) -> None:
        self._by_id: dict[str, OpenRfq] = {}
        self.get = self._by_id.get  # bound once: asked for every RFQ of every poll
        self.held: set[str] = set()  # the ids of the records with a hold: empty nearly always
        self._ended: dict[str, EndedRfq] = {}
        self.ended = self._ended.get

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, rfq_id: object) -> bool:
        return rfq_id in self._by_id

    def __iter__(self) -> Iterator[OpenRfq]:
        return iter(list(self._by_id.values()))

    def add(self, rfq: Rfq, version: Version, seen_at_s: float) -> OpenRfq:
        record = self._by_id[rfq.id] = OpenRfq(rfq, version, seen_at_s)
        return record

    def forget(self, rfq_id: str) -> OpenRfq | None:
        self.held.discard(rfq_id)
        return self._by_id.pop(rfq_id, None)

    def end(self, rfq: Rfq) -> OpenRfq | None:
        """`rfq` is listed ended: forgotten, and its end remembered (the first end seen)."""
        if rfq.id not in self._ended:
            self._ended[rfq.id] = EndedRfq(rfq.status, rfq.quote_deadline)
        return self.forget(rfq.id)

    def forget_ended(self, deadline_before: datetime) -> None:
        """Stop remembering the ended RFQs whose quote deadline is before `deadline_before`."""
        gone = [i for i, e in self._ended.items() if e.quote_deadline < deadline_before]
        for rfq_id in gone:
            del self._ended[rfq_id]

    def hold(self, record: OpenRfq, hold: Hold | None) -> None:
        """Set `record`'s hold (None: released, it was quoted or declined for good)."""
        record.hold = hold
        if hold is None:
            self.held.discard(record.rfq.id)
        else:
            self.held.add(record.rfq.id)


class Desk:
    """Single-owner state of one engine, mutated only on its event loop. The strategy slots are
    replaced whole (a swap), never edited."""

    __slots__ = (
        "book",
        "cursor",
        "quotes",
        "rfqs",
        "shadow",
        "stats",
        "strategy",
        "withdraw_wanted",
    )

    def __init__(
        self, risk: RiskConfig, strategy: StrategySlot, shadow: StrategySlot | None = None
    ) -> None:
        self.rfqs = OpenRfqs()
        self.stats = EngineStats()
        self.cursor: datetime | None = None
        self.strategy = strategy
        # Prices every RFQ the live strategy prices, and sends nothing (None: no shadow).
        self.shadow = shadow
        self.withdraw_wanted = asyncio.Event()
        self.quotes = QuoteBook()
        self.book = empty_book(risk)

    def reset(self, risk: RiskConfig) -> None:
        """An empty risk book and quote book: before a start's reconciliation is tried again,
        so nothing it read the first time is counted twice."""
        self.book = empty_book(risk)
        self.quotes = QuoteBook()


def empty_book(risk: RiskConfig) -> RiskBook:
    """A risk book with `risk`'s windows and payment day, holding nothing."""
    return RiskBook(
        drift_window_s=risk.collar.drift_window_s,
        fill_window_s=risk.fill_throttle_window_s,
        payment_day=risk.credit_payment_day,
    )
