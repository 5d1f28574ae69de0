"""Quotes we send, quotes the venue holds, trades, and pages of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from quoter.domain.market import Action, Instrument

PRICE_MIN_EUR_MWH = -500.0
PRICE_MAX_EUR_MWH = 4000.0

T = TypeVar("T")


class QuoteStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Price:
    value: float
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"price must be finite, got {self.value}")


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What we send: a price for a one-way RFQ, or a bid and an ask for a two-way one."""

    rfq_id: str
    client_quote_id: str
    valid_until: datetime
    price: Price | None = None
    bid: Price | None = None
    ask: Price | None = None

    def __post_init__(self) -> None:
        one_way = self.price is not None
        two_way = self.bid is not None and self.ask is not None
        if one_way == two_way or (not two_way and (self.bid or self.ask)):
            raise ValueError("a quote has a price, or a bid and an ask, not both")
        for p in (self.price, self.bid, self.ask):
            if p is not None and not PRICE_MIN_EUR_MWH <= p.value <= PRICE_MAX_EUR_MWH:
                raise ValueError(f"price {p.value} is outside the venue's range")
        if self.bid is not None and self.ask is not None and self.bid.value >= self.ask.value:
            raise ValueError(f"bid {self.bid.value} must be below ask {self.ask.value}")
        if self.valid_until.tzinfo is None:
            raise ValueError("valid-until must carry a UTC offset")


@dataclass(frozen=True, slots=True)
class Quote:
    """A quote as the venue holds it."""

    id: str
    rfq_id: str
    client_quote_id: str
    status: QuoteStatus
    price: Price | None
    bid: Price | None
    ask: Price | None
    valid_until: datetime
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Trade:
    """A done trade. `action` is our side. `product_named`: whether the instrument's product
    (type and label) is the venue's word. The contract's trade carries none; its instrument's
    product is then the wire's placeholder, to be shown as not known, never as the product."""

    id: str
    short_id: str
    action: Action
    traded_at: datetime
    venue: str
    rfq_id: str
    quote_id: str
    instrument: Instrument
    quantity_mw: float
    price: Price
    counterparty_name: str
    product_named: bool = True


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """A list item the venue sent that failed validation: where it was and what was wrong;
    its id and its RFQ's, where they could be read (a quote is withdrawn by the two)."""

    index: int
    item_id: str | None
    reason: str
    rfq_id: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list endpoint. Malformed items are set aside in `rejected`, not raised."""

    items: tuple[T, ...]
    total: int
    limit: int
    skip: int
    rejected: tuple[RejectedItem, ...] = ()
