"""The simulated market, advanced by `step(now)`: Poisson arrivals of RFQs, and every RFQ's end
(requester's cancellation, or the deadline where the best quote wins), and quote expiries.

At the deadline the requester takes the best price among our active quote and the competing
dealers' (it buys: lowest ask; it sells: highest bid; a two-way RFQ is judged on the side the
requester really takes, drawn at creation). A tie goes to the competitor. With no price at
all the RFQ expires. Every change is stamped with the instant it happened (not the step's).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from quoter.domain import Action, MyQuoteStatus, Quote, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.sandbox.config import MarketConfig
from quoter.sandbox.generate import RfqSpec, build_rfq, random_dealers, random_spec
from quoter.sandbox.records import SimRfq, floor_ms, trade_of
from quoter.sandbox.reference import ReferencePrice
from quoter.sandbox.store import Store


class StoreFull(Exception):
    """Every stored RFQ is still open: no room for another."""


def touch(sim: SimRfq, at: datetime, **changes: Any) -> SimRfq:
    """The RFQ with `changes`; `updated-at` moves to `at` only if what the API shows changed."""
    rfq = touched(sim.rfq, at, **changes)
    return sim if rfq is sim.rfq else replace(sim, rfq=rfq)


def touched(rfq: Rfq, at: datetime, **changes: Any) -> Rfq:
    """`touch` for the public RFQ alone."""
    if all(getattr(rfq, name) == value for name, value in changes.items()):
        return rfq
    return replace(rfq, **changes, updated_at=max(at, rfq.updated_at))


def our_price(quote: Quote, requester_side: Action) -> float:
    """The price of ours the requester would take: our ask when it buys, our bid when it sells."""
    if quote.price is not None:
        return quote.price.value
    side = quote.ask if requester_side is Action.BUY else quote.bid
    if side is None:
        raise ValueError(f"quote {quote.id} has neither a price nor both sides")
    return side.value


class Market:
    def __init__(
        self,
        config: MarketConfig,
        seed: int,
        store: Store,
        reference: ReferencePrice,
        start: datetime,
    ) -> None:
        self.config = config
        self.store = store
        self.reference = reference
        self._seed = seed
        self._arrivals = random.Random(f"{seed}/arrivals")
        self._ids = random.Random(f"{seed}/trades")
        self._counts = {"rfq": 0, "control": 0, "sample": 0}
        self._next_arrival = floor_ms(start) + self._gap()
        self.dropped = 0
        for _ in range(config.open_at_start if config.enabled else 0):
            self._add_arrival(floor_ms(start))

    def _gap(self) -> timedelta:
        rate_per_s = self.config.arrivals_per_min / 60.0
        return timedelta(seconds=round(self._arrivals.expovariate(rate_per_s), 3))

    def _rng(self, kind: str) -> random.Random:
        self._counts[kind] += 1
        return random.Random(f"{self._seed}/{kind}/{self._counts[kind]}")

    # arrivals

    def step(self, now: datetime) -> None:
        now = floor_ms(now)
        if self.config.enabled:
            self._arrive(now)
        for sim in self.store.open_rfqs():
            self._settle(sim, now)

    def _arrive(self, now: datetime) -> None:
        earliest = now - timedelta(seconds=self.config.max_catchup_s)
        if self._next_arrival < earliest:
            self._next_arrival = earliest
        while self._next_arrival <= now:
            at = self._next_arrival
            self._add_arrival(at)
            self._next_arrival = at + self._gap()

    def _add_arrival(self, at: datetime) -> None:
        rng = self._rng("rfq")
        spec = random_spec(rng, at, self.config)
        sim = build_rfq(spec, rng, at, self.reference, random_dealers(rng, self.config))
        if self.store.has_room():
            self.store.add_rfq(sim)
        else:
            self.dropped += 1

    def create(self, spec: RfqSpec, now: datetime) -> SimRfq:
        """An open RFQ made to order (the controls); competing dealers drawn unless fixed."""
        if not self.store.has_room():
            raise StoreFull("every stored RFQ is open")
        rng = self._rng("control")
        sim = build_rfq(spec, rng, now, self.reference, rng.randint(1, 4))
        self.store.add_rfq(sim)
        return sim

    def sample(self, now: datetime) -> SimRfq:
        """A random RFQ that is not stored (a template for malformed list items)."""
        rng = self._rng("sample")
        spec = random_spec(rng, now, self.config)
        return build_rfq(spec, rng, now, self.reference, 1)

    # ends

    def _settle(self, sim: SimRfq, now: datetime) -> None:
        deadline = sim.rfq.quote_deadline
        cancels = sim.cancel_at is not None and sim.cancel_at < deadline
        end_at = sim.cancel_at if sim.cancel_at is not None and cancels else deadline
        quote = self.store.active_quote(sim)
        if quote is not None and quote.valid_until <= now and quote.valid_until < end_at:
            sim = self._expire_quote(sim, quote)
            quote = None
        if end_at > now:
            return
        if cancels:
            self._cancel(sim, quote, end_at)
        else:
            self._resolve(sim, quote, deadline)

    def _set_quote(self, quote: Quote, status: QuoteStatus, at: datetime) -> None:
        self.store.put_quote(replace(quote, status=status, updated_at=max(at, quote.updated_at)))

    def _expire_quote(self, sim: SimRfq, quote: Quote) -> SimRfq:
        self._set_quote(quote, QuoteStatus.EXPIRED, quote.valid_until)
        sim = touch(sim, quote.valid_until, my_quote_status=MyQuoteStatus.EXPIRED)
        self.store.put_rfq(sim)
        return sim

    def _cancel(self, sim: SimRfq, quote: Quote | None, at: datetime) -> None:
        mine = sim.rfq.my_quote_status
        if quote is not None:
            self._set_quote(quote, QuoteStatus.LOST, at)
            mine = MyQuoteStatus.LOST
        self.store.put_rfq(touch(sim, at, status=RfqStatus.CANCELLED, my_quote_status=mine))

    def _resolve(self, sim: SimRfq, quote: Quote | None, at: datetime) -> None:
        side = sim.requester_side
        competitor = sim.best_ask if side is Action.BUY else sim.best_bid
        ours = None if quote is None else our_price(quote, side)
        if quote is not None and ours is not None and _beats(ours, competitor, side):
            self._set_quote(quote, QuoteStatus.ACCEPTED, at)
            self.store.add_trade(self._trade(sim, quote, ours, at))
            sim = touch(sim, at, status=RfqStatus.TRADED, my_quote_status=MyQuoteStatus.WON)
        elif competitor is not None:
            mine = sim.rfq.my_quote_status
            if quote is not None:
                self._set_quote(quote, QuoteStatus.LOST, at)
                mine = MyQuoteStatus.LOST
            sim = touch(sim, at, status=RfqStatus.TRADED, my_quote_status=mine)
        else:
            sim = touch(sim, at, status=RfqStatus.EXPIRED)
        self.store.put_rfq(sim)

    def _trade(self, sim: SimRfq, quote: Quote, price: float, at: datetime) -> Trade:
        return trade_of(sim.rfq, sim.requester_side, quote, price, at, self._ids)


def _beats(ours: float, competitor: float | None, requester_side: Action) -> bool:
    if competitor is None:
        return True
    return ours < competitor if requester_side is Action.BUY else ours > competitor
