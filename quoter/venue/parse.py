"""Answers to domain values: one object, a page of them, a load shape.

Pure functions. A whole answer that is not what the contract promises raises MalformedResponse
naming the field (the client adds the endpoint); a malformed item of a list lands in
`Page.rejected` and the rest of the page stands.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from quoter.domain import LoadShape, Page, Quote, RejectedItem, Rfq, Trade
from quoter.venue.errors import MalformedResponse
from quoter.venue.wire import WireEnvelope, WireLoadShape, WireQuote, WireRfq, WireTrade, utc

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

RESOLUTION_S = {"PT1H": 3600, "PT15M": 900}


def _constant(name: str) -> float:
    # NaN and Infinity are not JSON; read them so the item that carries one is named and set aside.
    return float(name)


def decode_json(body: bytes) -> object:
    """The JSON in `body`; MalformedResponse if it is not JSON (where it stops being JSON: the
    parser's words, never the body's)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_constant)
    except json.JSONDecodeError as error:
        where = f"{error.msg}, line {error.lineno} column {error.colno}"
        raise MalformedResponse(f"the body is not JSON: {where}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedResponse(f"the body is not JSON: {type(error).__name__}") from None


def field_of(error: ValidationError) -> str:
    """The path of the field of the first problem (`instrument.maturity.start`)."""
    return ".".join(str(part) for part in error.errors(include_url=False)[0]["loc"]) or "(item)"


def describe(error: ValidationError) -> str:
    """`field.path: what is wrong` for the first problem, as a person would read it."""
    message = error.errors(include_url=False)[0]["msg"]
    return f"{field_of(error)}: {message[:1].lower()}{message[1:]}"


def _validated(model: type[M], raw: object) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        what = model.__name__.removeprefix("Wire").lower()
        raise MalformedResponse(f"{what}: {describe(error)}", field=field_of(error)) from None


def _domain(make: Callable[[], T], what: str) -> T:
    try:
        return make()
    except ValueError as error:
        raise MalformedResponse(f"{what}: {error}") from None


def parse_rfq(raw: object) -> Rfq:
    wire = _validated(WireRfq, raw)
    return _domain(wire.domain, "rfq")


def parse_quote(raw: object) -> Quote:
    wire = _validated(WireQuote, raw)
    return _domain(wire.domain, "quote")


def parse_trade(raw: object) -> Trade:
    wire = _validated(WireTrade, raw)
    return _domain(wire.domain, "trade")


def parse_load_shape(raw: object) -> LoadShape:
    """Volumes summed per instant (the 24/25 format repeats the missing March hour), in order."""
    wire = _validated(WireLoadShape, raw)
    volumes: dict[datetime, float] = {}
    for point in wire.data:
        start = utc(point.interval_start)
        volumes[start] = volumes.get(start, 0.0) + point.quantity.value
    starts = tuple(sorted(volumes))
    return _domain(
        lambda: LoadShape(
            resolution_s=RESOLUTION_S[wire.resolution],
            starts=starts,
            volumes_mw=tuple(volumes[s] for s in starts),
        ),
        "load-shape",
    )


def _item_id(raw: object, key: str = "id") -> str | None:
    """An item's `key` (its id, its RFQ's), if it is one: a quote the rest of which cannot be
    read can still be withdrawn by its ids."""
    if isinstance(raw, dict):
        value = raw.get(key)
        if isinstance(value, str) and 0 < len(value) <= 200:
            return value
    return None


def parse_page(
    raw: object, parse_item: Callable[[object], T], *, max_items: int, limit: int, skip: int
) -> Page[T]:
    """A list answer: each item parsed on its own; the envelope itself must be sound."""
    envelope = _validated(WireEnvelope, raw)
    if len(envelope.items) > max_items:
        raise MalformedResponse(
            f"items: the page holds {len(envelope.items)}, more than {max_items}", field="items"
        )
    items: list[T] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(envelope.items):
        try:
            items.append(parse_item(item))
        except MalformedResponse as error:
            reason = str(error).split(": ", 1)[-1]
            rejected.append(
                RejectedItem(index, _item_id(item), reason, rfq_id=_item_id(item, "rfq-id"))
            )
    seen = skip + len(envelope.items)
    return Page(
        items=tuple(items),
        total=envelope.total if envelope.total is not None else seen,
        limit=envelope.limit if envelope.limit is not None else limit,
        skip=envelope.skip if envelope.skip is not None else skip,
        rejected=tuple(rejected),
    )
