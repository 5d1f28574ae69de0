"""inventory_skew: wraps another strategy and leans its prices against the desk's position in
the delivery's buckets, so a long desk quotes lower (sells more readily, buys less readily).

skew = clamp(-k * exposure, -cap, cap), where exposure (MWh) is the desk's position averaged
over the delivery's buckets, weighted by the delivery's energy in each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.dataclasses import dataclass

from quoter.domain import Rfq
from quoter.pricing.delivery import Delivery, DeliveryBucket, delivery_of
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    Strategy,
    load_strategy,
    shift_quote,
)


def _inner_strategy(value: object) -> object:
    """`inner` as a built strategy, a name, or {"name": ..., "params": {...}}."""
    if isinstance(value, str):
        return load_strategy(value, {})
    if isinstance(value, dict) and "name" in value:
        if set(value) - {"name", "params"}:
            raise ValueError("inner takes 'name' and 'params' only")
        return load_strategy(str(value["name"]), dict(value.get("params") or {}))
    return value


def exposure_mwh(delivery: Delivery, positions_mwh: Mapping[DeliveryBucket, float]) -> float:
    """The desk's position (MWh) in the delivery's buckets, weighted by the delivery's energy."""
    weights = delivery.period.month_weights
    total = sum(w for _, w in weights)
    held = sum(
        positions_mwh.get(DeliveryBucket(delivery.commodity, delivery.market_area, month), 0.0) * w
        for month, w in weights
    )
    return float(held / total)


@dataclass(frozen=True, config=ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class InventorySkew:
    """Another strategy's prices, leaned against the desk's position in the delivery's months.

    inner: the strategy wrapped; k_eur_mwh_per_mwh: EUR/MWh of skew per MWh of exposure; cap_eur_mwh: its bound."""

    inner: Annotated[Strategy, BeforeValidator(_inner_strategy)]
    k_eur_mwh_per_mwh: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0001
    cap_eur_mwh: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 2.0

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        decision = self.inner.price(rfq, market)
        if isinstance(decision, Decline):
            return decision
        skew = 0.0
        if market.positions_mwh:
            delivery = delivery_of(rfq, market.shape)
            if isinstance(delivery, Decline):
                return delivery
            raw = -self.k_eur_mwh_per_mwh * exposure_mwh(delivery, market.positions_mwh)
            skew = min(self.cap_eur_mwh, max(-self.cap_eur_mwh, raw))
        return shift_quote(decision, "skew", skew)
