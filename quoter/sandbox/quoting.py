"""Submitting and withdrawing our quotes, with the venue's rules.

Order of checks on a submit: unknown RFQ 404; malformed JSON 400; body of the wrong shape 422;
a known `client-quote-id` 200 with the original (even if the RFQ has closed since, so a retried
submit is always safe); RFQ not open 409; prices and `valid-until` 422. A new quote supersedes
the active one on the same RFQ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from quoter.domain import (
    MyQuoteStatus,
    Price,
    Quote,
    QuoteStatus,
    QuoteType,
    Rfq,
    RfqStatus,
)
from quoter.domain.trading import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH
from quoter.sandbox import jsonfields as fields
from quoter.sandbox.errors import ApiError, invalid_quote, not_found
from quoter.sandbox.market import touch, touched
from quoter.sandbox.records import SimRfq, floor_ms, new_hex_id
from quoter.sandbox.store import Store

QUOTE_KEYS = frozenset({"client-quote-id", "price", "bid", "ask", "valid-until"})
PRICE_KEYS = frozenset({"value", "currency"})


@dataclass(frozen=True, slots=True)
class QuoteBody:
    client_quote_id: str
    price: Price | None
    bid: Price | None
    ask: Price | None
    valid_until: datetime


def _price(value: object, where: str) -> Price | None:
    if value is None:
        return None
    body = fields.obj(value, where, PRICE_KEYS)
    amount = fields.number(body.get("value"), f"{where}.value")
    if body.get("currency") != "EUR":
        raise fields.FieldError(f"{where}.currency must be EUR")
    exponent = Decimal(repr(amount)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise fields.FieldError(f"{where}.value has more than 3 decimals")
    if not PRICE_MIN_EUR_MWH <= amount <= PRICE_MAX_EUR_MWH:
        raise fields.FieldError(
            f"{where}.value must be within [{PRICE_MIN_EUR_MWH:g}, {PRICE_MAX_EUR_MWH:g}]"
        )
    return Price(amount, "EUR")


def parse_quote(raw: object) -> QuoteBody:
    body = fields.obj(raw, "the quote", QUOTE_KEYS)
    return QuoteBody(
        client_quote_id=fields.text(body.get("client-quote-id"), "client-quote-id", 100),
        price=_price(body.get("price"), "price"),
        bid=_price(body.get("bid"), "bid"),
        ask=_price(body.get("ask"), "ask"),
        valid_until=floor_ms(fields.instant(body.get("valid-until"), "valid-until")),
    )


def check_quote(quote: QuoteBody, rfq: Rfq, now: datetime) -> None:
    """The rules that depend on the RFQ and the time; raises 422 INVALID_QUOTE."""
    if rfq.quote_type is QuoteType.TWO_WAY:
        if quote.price is not None or quote.bid is None or quote.ask is None:
            raise invalid_quote("a two-way RFQ takes a bid and an ask, and no price")
        if quote.bid.value >= quote.ask.value:
            raise invalid_quote("bid must be below ask")
    elif quote.price is None or quote.bid is not None or quote.ask is not None:
        raise invalid_quote("a one-way RFQ takes a price, and no bid or ask")
    if quote.valid_until <= now:
        raise invalid_quote("valid-until is not in the future")
    if quote.valid_until > rfq.quote_deadline:
        raise invalid_quote("valid-until is after the quote deadline")


def find_rfq(store: Store, rfq_id: str) -> SimRfq:
    sim = store.rfqs.get(rfq_id)
    if sim is None:
        raise not_found(f"no RFQ {rfq_id}")
    return sim


def submit(
    store: Store, ids: random.Random, rfq_id: str, raw: object, now: datetime
) -> tuple[Quote, bool]:
    """The quote and whether it was created (False: a repeat of a known client-quote-id)."""
    sim = find_rfq(store, rfq_id)
    try:
        body = parse_quote(raw)
    except fields.FieldError as error:
        raise invalid_quote(str(error)) from None
    return place(store, ids, sim, body, now)


def place(
    store: Store, ids: random.Random, sim: SimRfq, body: QuoteBody, now: datetime
) -> tuple[Quote, bool]:
    """A well-formed quote body on `sim`: the rules after the body's shape (see submit)."""
    rfq_id = sim.id
    known = store.quote_for_client_id(body.client_quote_id)
    if known is not None:
        if known.rfq_id != rfq_id:
            raise invalid_quote("client-quote-id was already used on another RFQ")
        return known, False
    if sim.rfq.status is not RfqStatus.OPEN:
        raise ApiError(409, "RFQ_NOT_OPEN", f"RFQ {rfq_id} is {sim.rfq.status.value}")
    check_quote(body, sim.rfq, now)
    previous = store.active_quote(sim)
    if previous is not None:
        store.put_quote(replace(previous, status=QuoteStatus.SUPERSEDED, updated_at=now))
    quote = Quote(
        id=new_hex_id(ids, "q"),
        rfq_id=rfq_id,
        client_quote_id=body.client_quote_id,
        status=QuoteStatus.ACTIVE,
        price=body.price,
        bid=body.bid,
        ask=body.ask,
        valid_until=body.valid_until,
        created_at=now,
        updated_at=now,
    )
    store.add_quote(quote)
    rfq = touched(sim.rfq, now, my_quote_status=MyQuoteStatus.QUOTED)
    store.put_rfq(replace(sim, rfq=rfq, latest_quote_id=quote.id))
    return quote, True


def withdraw(store: Store, rfq_id: str, quote_id: str, now: datetime) -> None:
    sim = find_rfq(store, rfq_id)
    quote = store.quotes.get(quote_id)
    if quote is None or quote.rfq_id != rfq_id:
        raise not_found(f"no quote {quote_id} on RFQ {rfq_id}")
    if quote.status is not QuoteStatus.ACTIVE:
        raise ApiError(409, "QUOTE_NOT_ACTIVE", f"quote {quote_id} is {quote.status.value}")
    store.put_quote(replace(quote, status=QuoteStatus.WITHDRAWN, updated_at=now))
    store.put_rfq(touch(sim, now, my_quote_status=MyQuoteStatus.WITHDRAWN))
