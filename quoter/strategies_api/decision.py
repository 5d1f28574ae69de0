"""What a strategy decides: a quote (one price, or a bid and an ask) with its build-up, or a
decline with a reason code. Prices are EUR/MWh, rounded to 3 decimals, inside the venue's range."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from quoter.domain import Action
from quoter.domain.trading import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH
from quoter.pricing.reasons import Decline, ReasonCode

PRICE_DECIMALS = 3
TICK_EUR_MWH = 0.001


class QuoteDecision(NamedTuple):
    """A quote. `side` is our side (None on a two-way quote, which has `bid` and `ask` instead of
    `price`). `components` is the ordered build-up in EUR/MWh: `mid`, then half-widths (such as
    `half-spread`, `credit`) that move the price away from mid on our side, then shifts (such as
    `skew`) that move every price alike:
    price = mid + s * sum(half-widths) + sum(shifts), s = +1 when we sell, -1 when we buy;
    bid and ask take s = -1 and +1. Plain data: `evaluate` checks it, not the constructor.
    A named tuple rather than a frozen dataclass: it is built once per RFQ on the hot path and
    costs a third as much to construct; compare decisions by field, not as tuples."""

    side: Action | None
    mid: float
    price: float | None
    bid: float | None
    ask: float | None
    components: Mapping[str, float]
    delivery_hours: float
    energy_mwh: float
    curve_id: str
    curve_as_of: datetime

    def prices(self) -> tuple[float, ...]:
        """The prices we would send."""
        return tuple(p for p in (self.price, self.bid, self.ask) if p is not None)


_SELL = Action.SELL  # a module constant: an enum member look-up costs four times as much
# Builds a QuoteDecision from a tuple of its fields in order, skipping the generated keyword
# __new__ (half the cost of a decision on the hot path).
_QUOTE = tuple.__new__

Decision = QuoteDecision | Decline
DeliveryFacts = tuple[float, float, str, datetime]
"""What a quote reports besides prices: delivery hours, energy in MWh, curve id and as-of."""


def out_of_range(prices: tuple[float, ...]) -> Decline | None:
    for price in prices:
        if not PRICE_MIN_EUR_MWH <= price <= PRICE_MAX_EUR_MWH:
            return _out_of_range(price)
    return None


def _out_of_range(price: float) -> Decline:
    return Decline(
        ReasonCode.PRICE_OUT_OF_RANGE,
        f"price {price} is outside [{PRICE_MIN_EUR_MWH}, {PRICE_MAX_EUR_MWH}] EUR/MWh",
    )


def build_quote(
    side: Action | None,
    mid: float,
    half_widths: Mapping[str, float],
    facts: DeliveryFacts,
) -> QuoteDecision | Decline:
    """A quote around `mid`, `sum(half_widths)` away on our side (both sides when two-way; a
    two-way quote is at least one tick wide)."""
    components = MappingProxyType({"mid": mid, **half_widths})
    return assemble_quote(side, mid, sum(half_widths.values()), components, facts)


def assemble_quote(
    side: Action | None,
    mid: float,
    width: float,
    components: Mapping[str, float],
    facts: DeliveryFacts,
) -> QuoteDecision | Decline:
    """`build_quote` for a caller that already holds the read-only build-up (`mid` first, then
    the half-widths) and their sum `width`: it spares a hot path a second mapping."""
    if side is None:
        bid = round(mid - width, PRICE_DECIMALS)
        ask = round(mid + width, PRICE_DECIMALS)
        if ask <= bid:  # rounded prices: above the bid means at least a tick above
            ask = max(ask, round(bid + TICK_EUR_MWH, PRICE_DECIMALS))
        if not PRICE_MIN_EUR_MWH <= bid <= PRICE_MAX_EUR_MWH:
            return _out_of_range(bid)
        if not PRICE_MIN_EUR_MWH <= ask <= PRICE_MAX_EUR_MWH:
            return _out_of_range(ask)
        return _QUOTE(QuoteDecision, (side, mid, None, bid, ask, components, *facts))
    price = round(mid + width if side is _SELL else mid - width, PRICE_DECIMALS)
    if not PRICE_MIN_EUR_MWH <= price <= PRICE_MAX_EUR_MWH:
        return _out_of_range(price)
    return _QUOTE(QuoteDecision, (side, mid, price, None, None, components, *facts))


def shift_quote(
    decision: QuoteDecision, name: str, shift_eur_mwh: float
) -> QuoteDecision | Decline:
    """The same quote with every price moved by `shift_eur_mwh`, recorded as component `name`."""
    shift = round(shift_eur_mwh, PRICE_DECIMALS)

    def moved(price: float | None) -> float | None:
        return None if price is None else round(price + shift, PRICE_DECIMALS)

    shifted = decision._replace(
        price=moved(decision.price),
        bid=moved(decision.bid),
        ask=moved(decision.ask),
        components=MappingProxyType({**decision.components, name: shift}),
    )
    return out_of_range(shifted.prices()) or shifted


def is_finite(decision: QuoteDecision) -> bool:
    prices = decision.prices()
    # One sum is finite exactly when every term is, short of an overflow that a range check
    # declines anyway; the per-term test runs only then.
    if math.isfinite(decision.mid + sum(prices) + sum(decision.components.values())):
        return True
    numbers = (decision.mid, *prices, *decision.components.values())
    return all(math.isfinite(x) for x in numbers)
