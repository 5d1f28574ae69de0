"""What the sandbox stores: the public RFQ plus what only the simulation knows (competition,
the requester's hidden side, a planned cancellation, the shape recipe), and seeded identifiers."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from quoter.domain import Action, Price, Quote, Rfq, Trade


class ShapeFormat(StrEnum):
    F23_25 = "23/25"
    F24_25 = "24/25"


@dataclass(frozen=True, slots=True)
class ShapeSpec:
    """How to draw a custom RFQ's volumes again: the same seed gives the same shape."""

    resolution_s: int
    format: ShapeFormat
    seed: int


@dataclass(frozen=True, slots=True)
class SimRfq:
    """An RFQ as the sandbox holds it. `requester_side` is the side the requester really takes
    (hidden on a two-way RFQ); `best_bid`/`best_ask` are the competing dealers' best prices."""

    rfq: Rfq
    shape: ShapeSpec | None
    best_bid: float | None
    best_ask: float | None
    requester_side: Action
    cancel_at: datetime | None
    latest_quote_id: str | None = None

    @property
    def id(self) -> str:
        return self.rfq.id


_SHORT_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_short_id(rng: random.Random, prefix: str) -> str:
    choice = rng.choice  # the same five draws, a list's: a generator resumes for each
    return prefix + "-" + "".join([choice(_SHORT_ALPHABET) for _ in range(5)])


def new_hex_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.getrandbits(48):012x}"


def floor_ms(moment: datetime) -> datetime:
    """The instant at millisecond precision, in UTC: what the wire can carry. A plain UTC
    datetime (the clocks' own, a replay's every instant) loses its sub-millisecond part by a
    subtraction, which costs less than `replace`, or is already what the wire carries."""
    if type(moment) is datetime and moment.tzinfo is UTC:
        below_ms = moment.microsecond % 1000
        return moment - timedelta(0, 0, below_ms) if below_ms else moment
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def trade_of(
    rfq: Rfq, requester_side: Action, quote: Quote, price: float, at: datetime, ids: random.Random
) -> Trade:
    """The trade our won quote makes; `action` is our side."""
    return Trade(
        id=new_hex_id(ids, "t"),
        short_id=new_short_id(ids, "TR"),
        action=requester_side.opposite,
        traded_at=at,
        venue=rfq.venue,
        rfq_id=rfq.id,
        quote_id=quote.id,
        instrument=rfq.instrument,
        quantity_mw=rfq.quantity_mw,
        price=Price(price),
        counterparty_name=rfq.requester_name,
    )
