"""Our quotes as the engine knows them, one per RFQ: in flight, live, outcome unknown, or being
withdrawn. Single-owner state of the engine; no I/O."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quoter.domain import Quote, Rfq

# A possibly-live quote (its submit's outcome unknown) is looked for in our quotes at once, then
# after 0.5 s, 1 s, 2 s, ... up to LOOK_MAX apart, and given up on UNKNOWN_GRACE after its
# valid-until (the venue's clock may be behind ours): by the engine, and by the dead-man's
# switch for a bot gone with such a quote.
LOOK_FIRST = timedelta(seconds=0.5)
LOOK_MAX = timedelta(seconds=30)
UNKNOWN_GRACE = timedelta(seconds=5)


class QuoteState(StrEnum):
    IN_FLIGHT = "in-flight"
    LIVE = "live"
    UNKNOWN = "unknown"
    WITHDRAWING = "withdrawing"


@dataclass(frozen=True, slots=True)
class OurQuote:
    rfq: Rfq
    client_quote_id: str
    prices: tuple[float, ...]
    mid: float
    strategy: str
    valid_until: datetime
    sent_at: datetime
    state: QuoteState
    quote_id: str | None = None


class QuoteBook:
    """At most one quote per RFQ: a requote replaces the entry, as the venue supersedes.
    Every write goes through `_put` or `remove`, which keep the per-state index, so the
    engine's per-poll questions (how many live, which unknown) cost what they answer."""

    def __init__(self) -> None:
        self._quotes: dict[str, OurQuote] = {}
        self._by_state: dict[QuoteState, set[str]] = {state: set() for state in QuoteState}
        self._sequence = 0

    def __len__(self) -> int:
        return len(self._quotes)

    def __iter__(self) -> Iterator[OurQuote]:
        return iter(list(self._quotes.values()))

    def get(self, rfq_id: str) -> OurQuote | None:
        return self._quotes.get(rfq_id)

    def next_client_quote_id(self, run_id: str) -> str:
        """Unique per run and sequence, so a retry reuses it and a new quote never does."""
        self._sequence += 1
        return f"q-{run_id}-{self._sequence:06d}"

    def _put(self, quote: OurQuote) -> None:
        rfq_id = quote.rfq.id
        old = self._quotes.get(rfq_id)
        if old is not None:
            self._by_state[old.state].discard(rfq_id)
        self._quotes[rfq_id] = quote
        self._by_state[quote.state].add(rfq_id)

    def sending(self, quote: OurQuote) -> None:
        self._put(quote)

    def confirmed(self, rfq_id: str, venue_quote: Quote) -> OurQuote | None:
        mine = self._quotes.get(rfq_id)
        if mine is None or mine.client_quote_id != venue_quote.client_quote_id:
            return None
        state = QuoteState.WITHDRAWING if mine.state is QuoteState.WITHDRAWING else QuoteState.LIVE
        updated = _moved(mine, state, venue_quote.valid_until, venue_quote.id)
        self._put(updated)
        return updated

    def mark(self, rfq_id: str, state: QuoteState) -> None:
        mine = self._quotes.get(rfq_id)
        if mine is not None:
            self._put(_moved(mine, state, mine.valid_until, mine.quote_id))

    def remove(self, rfq_id: str) -> OurQuote | None:
        mine = self._quotes.pop(rfq_id, None)
        if mine is not None:
            self._by_state[mine.state].discard(rfq_id)
        return mine

    def unknown(self) -> list[OurQuote]:
        return [self._quotes[i] for i in self._by_state[QuoteState.UNKNOWN]]

    def unsettled(self) -> list[OurQuote]:
        """The quotes whose submit's outcome is not known yet: in flight, or unanswered."""
        ids = self._by_state[QuoteState.IN_FLIGHT] | self._by_state[QuoteState.UNKNOWN]
        return [self._quotes[i] for i in ids]

    def live_count(self) -> int:
        return len(self._quotes) - len(self._by_state[QuoteState.WITHDRAWING])


def _moved(
    mine: OurQuote, state: QuoteState, valid_until: datetime, quote_id: str | None
) -> OurQuote:
    """`mine` in `state`, as the venue has it: `dataclasses.replace` without its field-by-field
    introspection (once for every quote the venue confirms)."""
    return OurQuote(
        mine.rfq,
        mine.client_quote_id,
        mine.prices,
        mine.mid,
        mine.strategy,
        valid_until,
        mine.sent_at,
        state,
        quote_id,
    )
