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


def risk_toml(*, max_open_quotes: int = 40, credit_limit_eur: float = 200_000_000.0) -> str:
    """A desk's `[risk]` and `[risk.collar]` sections as a configuration file holds them: the
    limits a test desk quotes the sandbox within, the two that tests vary given."""
    return f"""
[risk]
max_volume_mw = 50.0
max_notional_eur = 50000000.0
max_open_quotes = {max_open_quotes}
max_quotes_per_minute = 60
max_position_mwh = 500000.0
credit_limit_eur = {credit_limit_eur:.1f}
allowed_areas = ["DE", "FR", "NL", "THE", "TTF"]
allowed_loads = ["base", "peak", "off-peak", "custom"]
allowed_products = ["day", "weekend", "week", "balance-of-month", "month", "quarter", "season",
    "gas-year", "year"]
max_curve_age_s = 129600.0
fill_throttle_count = 20
fill_throttle_window_s = 600.0

[risk.collar]
max_distance_eur_mwh = 15.0
max_drift_eur_mwh = 10.0
drift_window_s = 300.0
"""
