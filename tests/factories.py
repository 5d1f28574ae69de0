"""Factories with defaults: `make_rfq(**overrides)` and friends, for tests across the suite."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    MyQuoteStatus,
    ProductType,
    QuoteType,
    Rfq,
    RfqStatus,
)

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def make_instrument(**overrides: Any) -> Instrument:
    base = Instrument(
        commodity=Commodity.POWER,
        market_area="DE",
        load=Load.BASE,
        settlement="physical",
        start=datetime(2026, 12, 31, 23, tzinfo=UTC),
        end=datetime(2027, 12, 31, 23, tzinfo=UTC),
        product_type=ProductType.YEAR,
        product_label="Cal-27",
    )
    return replace(base, **overrides)


def make_rfq(**overrides: Any) -> Rfq:
    instrument = overrides.pop("instrument", None) or make_instrument()
    base = Rfq(
        id="6f1c2c9e-3c1e-4a55-9d0e-6b1d2b3f9a10",
        short_id="RQ-7K3M9",
        venue="entender",
        status=RfqStatus.OPEN,
        created_at=T0,
        updated_at=T0,
        quote_deadline=T0 + timedelta(minutes=10),
        requester_id="c-123",
        requester_name="Stadtwerke Beispiel GmbH",
        action=Action.BUY,
        quote_type=QuoteType.ONE_WAY,
        instrument=instrument,
        quantity_mw=10.0,
        shape_ref=None,
        currency="EUR",
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )
    return replace(base, **overrides)
