"""Factories for whole trail records, built as the engine builds them (typed events through the
codec), with defaults: `quote_intent(rfq_id, side, mid, price)`, `outcome(...)`, `rfq_seen(...)`."""

from __future__ import annotations

from typing import Any

from quoter.audit import events

CURVE_AS_OF = "2026-03-02T00:00:00+00:00"


def decision(
    side: str | None, mid: float, price: float | None, **overrides: Any
) -> events.DecisionFields:
    fields: dict[str, Any] = {
        "side": side,
        "mid": mid,
        "price": price,
        "bid": None,
        "ask": None,
        "components": {"mid": mid},
        "delivery_hours": 720.0,
        "energy_mwh": 7200.0,
        "curve_id": "test-curve",
        "curve_as_of": CURVE_AS_OF,
    }
    return events.DecisionFields(**(fields | overrides))


def quote_intent(
    rfq_id: str, side: str | None, mid: float, price: float, **overrides: Any
) -> dict[str, object]:
    """A one-way quote at `price` (`side` None: two-way around it, 1 EUR/MWh either way)."""
    two_way = side is None
    fields: dict[str, Any] = {
        "rfq_id": rfq_id,
        "client_quote_id": f"q-{rfq_id}",
        "strategy": "curve-spread",
        "params": {},
        "strategy_version": None,
        "curve_age_s": 1.0,
        "decision": decision(
            side,
            mid,
            None if two_way else price,
            bid=price - 1 if two_way else None,
            ask=price + 1 if two_way else None,
        ),
        "checks": (events.CheckFields(code="collar", passed=True, detail="ok"),),
        "sent": events.SentFields(
            price=None if two_way else price,
            bid=price - 1 if two_way else None,
            ask=price + 1 if two_way else None,
            requote=False,
        ),
        "valid_until": "2026-03-02T09:00:10+00:00",
    }
    return events.encode(events.QuoteIntent(**(fields | overrides)))


def fill(rfq_id: str, side: str, price: float) -> dict[str, object]:
    event = events.Filled(rfq_id=rfq_id, side=side, price=price, client_quote_id=f"q-{rfq_id}")
    return events.encode(event)


def outcome(rfq_id: str, my_quote_status: str, status: str = "ended") -> dict[str, object]:
    event = events.Outcome(
        rfq_id=rfq_id,
        status=status,
        my_quote_status=my_quote_status,
        client_quote_id=f"q-{rfq_id}",
    )
    return events.encode(event)


def rfq_seen(rfq_id: str, **overrides: Any) -> dict[str, object]:
    fields: dict[str, Any] = {
        "id": rfq_id,
        "short_id": rfq_id[:8],
        "status": "open",
        "action": "buy",
        "quote_type": "one-way",
        "deadline": "2026-03-02T09:05:00+00:00",
        "requester": "c-1",
        "commodity": "power",
        "market_area": "DE",
        "load": "base",
        "product": "month",
        "label": "Apr-26",
        "start": "2026-03-31T22:00:00+00:00",
        "end": "2026-04-30T22:00:00+00:00",
        "quantity_mw": 10.0,
    }
    return events.encode(events.RfqSeen(rfq=events.RfqFields(**(fields | overrides))))
