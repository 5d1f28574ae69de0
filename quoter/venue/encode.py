"""What the client sends: kebab-case bodies, UTC timestamps with milliseconds and Z, and query
strings percent-encoded by us (a `+` travels as %2B, never as a space)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from quoter.domain import Price, QuoteRequest

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def format_instant(instant: datetime) -> str:
    """`2026-03-02T09:15:00.000Z`; milliseconds truncated, never rounded up past a deadline."""
    if instant.tzinfo is None:
        raise ValueError("refusing to send a timestamp without an offset")
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _price(price: Price) -> dict[str, object]:
    # The venue takes at most 3 decimals; float noise (87.35000000001) must not cost a 422.
    return {"value": round(price.value, 3), "currency": price.currency}


def quote_body(request: QuoteRequest) -> dict[str, object]:
    body: dict[str, object] = {"client-quote-id": request.client_quote_id}
    if request.price is not None:
        body["price"] = _price(request.price)
    if request.bid is not None and request.ask is not None:
        body["bid"] = _price(request.bid)
        body["ask"] = _price(request.ask)
    body["valid-until"] = format_instant(request.valid_until)
    return body


def json_bytes(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


QueryValue = str | int | datetime | None


def query_string(params: Mapping[str, QueryValue]) -> str:
    """`a=1&b=...` with every value percent-encoded; None values left out."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        text = format_instant(value) if isinstance(value, datetime) else str(value)
        parts.append(f"{quote(key, safe='')}={quote(text, safe='')}")
    return "&".join(parts)


def path_segment(value: str) -> str:
    """An id placed in a path, percent-encoded so it cannot change the path."""
    if not value:
        raise ValueError("an id in a path cannot be empty")
    return quote(value, safe="")


# The venue takes `traded-at` only as a closed range; an open side is filled with a far bound.
EARLIEST_TRADE = datetime(2000, 1, 1, tzinfo=UTC)


def traded_at_range(start: datetime | None, end: datetime | None, now: datetime) -> str | None:
    """`<ISO>_<ISO>` for the trades filter, or None when neither side is given."""
    if start is None and end is None:
        return None
    low = EARLIEST_TRADE if start is None else start
    high = now + timedelta(days=1) if end is None else end
    return f"{format_instant(low)}_{format_instant(high)}"
