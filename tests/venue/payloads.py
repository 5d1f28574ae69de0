"""Wire JSON as the contract shows it, with overrides: factories for venue answers."""

from __future__ import annotations

import copy
from typing import Any

Json = dict[str, Any]

RFQ: Json = {
    "id": "6f1c2c9e-3c1e-4a55-9d0e-6b1d2b3f9a10",
    "short-id": "RQ-7K3M9",
    "venue": "entender",
    "status": "open",
    "created-at": "2026-03-02T09:15:00.000Z",
    "updated-at": "2026-03-02T09:15:00.000Z",
    "quote-deadline": "2026-03-02T09:25:00.000Z",
    "requester": {"company": {"id": "c-123", "name": "Stadtwerke Beispiel GmbH"}},
    "action": "buy",
    "quote-type": "one-way",
    "instrument": {
        "commodity": "power",
        "market-area": "DE",
        "load": "base",
        "settlement": "physical",
        "maturity": {"start": "2026-12-31T23:00:00.000Z", "end": "2027-12-31T23:00:00.000Z"},
        "product": {"type": "year", "label": "Cal-27"},
    },
    "quantity": {"amount": {"value": 10, "unit": "MW"}, "ref": None},
    "pricing": {"pricing-type": "fixed", "currency": "EUR"},
    "my-quote-status": "not-quoted",
    "_links": {"self": {"href": "/v2.2/rfqs/x"}, "quotes": {"href": "/v2.2/rfqs/x/quotes"}},
}

QUOTE: Json = {
    "id": "q-1f2e",
    "rfq-id": "6f1c",
    "client-quote-id": "q-20260302-000123",
    "status": "active",
    "price": {"value": 87.35, "currency": "EUR"},
    "bid": None,
    "ask": None,
    "valid-until": "2026-03-02T09:17:00.000Z",
    "created-at": "2026-03-02T09:15:41.120Z",
    "updated-at": "2026-03-02T09:15:41.120Z",
    "_links": {"self": {"href": "..."}, "rfq": {"href": "..."}},
}

TRADE: Json = {
    "id": "t-9a8b",
    "short-id": "TR-4QX2P",
    "action": "sell",
    "traded-at": "2026-03-02T09:16:02.331Z",
    "venue": "entender",
    "rfq-id": "6f1c",
    "quote-id": "q-1f2e",
    "instrument": {
        "commodity": "power",
        "market-area": "DE",
        "load": "base",
        "settlement": "physical",
        "maturity": {"start": "2026-12-31T23:00:00.000Z", "end": "2027-12-31T23:00:00.000Z"},
    },
    "quantity": {"amount": {"value": 10, "unit": "MW"}, "ref": None},
    "pricing": {"pricing-type": "fixed", "price": {"value": 87.35, "currency": "EUR"}},
    "counterparty": {"company": {"name": "Stadtwerke Beispiel GmbH"}},
    "_links": {"self": {"href": "..."}, "trade": {"href": "..."}},
}


def _merged(base: Json, overrides: Json) -> Json:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def rfq(**overrides: Any) -> Json:
    """The contract's RFQ; keyword names use underscores for dashes (`quote_type=`)."""
    return _merged(RFQ, {k.replace("_", "-"): v for k, v in overrides.items()})


def quote(**overrides: Any) -> Json:
    return _merged(QUOTE, {k.replace("_", "-"): v for k, v in overrides.items()})


def trade(**overrides: Any) -> Json:
    return _merged(TRADE, {k.replace("_", "-"): v for k, v in overrides.items()})


def without(payload: Json, *path: str) -> Json:
    out = copy.deepcopy(payload)
    node = out
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return out


def page(items: list[Any], **extra: Any) -> Json:
    return {"items": items, "total": len(items), "limit": 100, "skip": 0, **extra}
