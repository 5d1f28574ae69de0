"""Serialisation to the venue's wire JSON: kebab-case keys, UTC millisecond timestamps with `Z`,
HAL `_links` under the request's version prefix, and the `items` list envelope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from quoter.domain import Instrument, Price, Quote, Trade
from quoter.sandbox.records import SimRfq

Json = dict[str, object]
VENUE = "entender"


def iso(moment: datetime) -> str:
    """`2026-03-02T09:15:00.000Z`: what the venue sends."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _href(path: str) -> Json:
    return {"href": path}


def _price(price: Price | None) -> Json | None:
    return None if price is None else {"value": price.value, "currency": price.currency}


def instrument_json(instrument: Instrument, *, with_product: bool = True) -> Json:
    body: Json = {
        "commodity": instrument.commodity.value,
        "market-area": instrument.market_area,
        "load": instrument.load.value,
        "settlement": instrument.settlement,
        "maturity": {"start": iso(instrument.start), "end": iso(instrument.end)},
    }
    if with_product:
        body["product"] = {
            "type": instrument.product_type.value,
            "label": instrument.product_label,
        }
    return body


def _quantity(value_mw: float, ref: str | None) -> Json:
    return {"amount": {"value": value_mw, "unit": "MW"}, "ref": ref}


def rfq_json(sim: SimRfq, prefix: str) -> Json:
    rfq = sim.rfq
    self_path = f"{prefix}/rfqs/{rfq.id}"
    links: Json = {"self": _href(self_path), "quotes": _href(f"{self_path}/quotes")}
    ref = None
    if rfq.shape_ref is not None:
        ref = prefix + rfq.shape_ref
        links["load-shape"] = _href(ref)
    return {
        "id": rfq.id,
        "short-id": rfq.short_id,
        "venue": rfq.venue,
        "status": rfq.status.value,
        "created-at": iso(rfq.created_at),
        "updated-at": iso(rfq.updated_at),
        "quote-deadline": iso(rfq.quote_deadline),
        "requester": {"company": {"id": rfq.requester_id, "name": rfq.requester_name}},
        "action": None if rfq.action is None else rfq.action.value,
        "quote-type": rfq.quote_type.value,
        "instrument": instrument_json(rfq.instrument),
        "quantity": _quantity(rfq.quantity_mw, ref),
        "pricing": {"pricing-type": "fixed", "currency": rfq.currency},
        "my-quote-status": rfq.my_quote_status.value,
        "_links": links,
    }


def quote_json(quote: Quote, prefix: str) -> Json:
    rfq_path = f"{prefix}/rfqs/{quote.rfq_id}"
    return {
        "id": quote.id,
        "rfq-id": quote.rfq_id,
        "client-quote-id": quote.client_quote_id,
        "status": quote.status.value,
        "price": _price(quote.price),
        "bid": _price(quote.bid),
        "ask": _price(quote.ask),
        "valid-until": iso(quote.valid_until),
        "created-at": iso(quote.created_at),
        "updated-at": iso(quote.updated_at),
        "_links": {"self": _href(f"{rfq_path}/quotes/{quote.id}"), "rfq": _href(rfq_path)},
    }


def trade_json(trade: Trade, prefix: str, shape_ref: str | None = None) -> Json:
    path = f"{prefix}/trades/{trade.id}"
    return {
        "id": trade.id,
        "short-id": trade.short_id,
        "action": trade.action.value,
        "traded-at": iso(trade.traded_at),
        "venue": trade.venue,
        "rfq-id": trade.rfq_id,
        "quote-id": trade.quote_id,
        "instrument": instrument_json(trade.instrument, with_product=False),
        "quantity": _quantity(trade.quantity_mw, None if shape_ref is None else prefix + shape_ref),
        "pricing": {"pricing-type": "fixed", "price": _price(trade.price)},
        "counterparty": {"company": {"name": trade.counterparty_name}},
        "_links": {"self": _href(path), "trade": _href(path)},
    }


def page_json(items: Sequence[Json], total: int, limit: int, skip: int) -> Json:
    return {"items": list(items), "total": total, "limit": limit, "skip": skip}
