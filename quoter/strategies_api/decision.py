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
    costs a third as much to construct; compare decisions by field, not as tuples.
    `notes` is what the strategy says of why, beside the build-up and not part of any price
    (a segment's name, a win probability, a fit's id): text or float values, audited and shown
    by `quoter price` with the components; empty unless a strategy sets it."""

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
    notes: Mapping[str, str | float] = MappingProxyType({})

    def prices(self) -> tuple[float, ...]:
        """The prices we would send."""
        # A list comprehension: one call, where a generator is resumed once per price.
        return tuple([p for p in (self.price, self.bid, self.ask) if p is not None])


_SELL = Action.SELL  # a module constant: an enum member look-up costs four times as much
# Builds a QuoteDecision from a tuple of its fields in order, skipping the generated keyword
# __new__ (half the cost of a decision on the hot path).
_QUOTE = tuple.__new__
_NO_NOTES: Mapping[str, str | float] = QuoteDecision._field_defaults["notes"]

Decision = QuoteDecision | Decline
DeliveryFacts = tuple[float, float, str, datetime]
"""What a quote reports besides prices: delivery hours, energy in MWh, curve id and as-of."""


def out_of_range(prices: tuple[float, ...]) -> Decline | None:
    """The decline of the first price outside the venue's range. A NaN or an infinity is not
    a price out of range but a strategy's fault: it is left for `evaluate`, which declines it
    as strategy-nan and counts it towards the fault-rate kill."""
    for price in prices:
        if not PRICE_MIN_EUR_MWH <= price <= PRICE_MAX_EUR_MWH and math.isfinite(price):
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
    two-way quote is at least one tick wide). One half-width may be negative (a discount), their
    sum may not: that raises ValueError (see `assemble_quote`)."""
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
    the half-widths) and their sum `width`: it spares a hot path a second mapping.

    A negative `width` raises ValueError: it would quote through mid against us (a sell below
    it, a buy above it), which is a strategy's sign error, never a price; raised inside the
    strategy, `evaluate` declines it as strategy-error and counts it as a fault. A NaN or
    infinite mid or width gives a non-finite price, left for `evaluate` (strategy-nan)."""
    if width < 0:
        raise ValueError(
            f"the half-widths sum to {width:g} EUR/MWh: a quote is built away from mid on our "
            "side, never through it"
        )
    if side is None:
        bid = round(mid - width, PRICE_DECIMALS)
        ask = round(mid + width, PRICE_DECIMALS)
        if ask <= bid:  # rounded prices: above the bid means at least a tick above
            ask = max(ask, round(bid + TICK_EUR_MWH, PRICE_DECIMALS))
        declined = out_of_range((bid, ask))
        if declined is not None:
            return declined
        return _QUOTE(QuoteDecision, (side, mid, None, bid, ask, components, *facts, _NO_NOTES))
    price = round(mid + width if side is _SELL else mid - width, PRICE_DECIMALS)
    if not PRICE_MIN_EUR_MWH <= price <= PRICE_MAX_EUR_MWH and math.isfinite(price):
        return _out_of_range(price)
    return _QUOTE(QuoteDecision, (side, mid, price, None, None, components, *facts, _NO_NOTES))


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


_MAPPINGS = (dict, MappingProxyType)
_FLOAT_FIELDS = ("mid", "delivery_hours", "energy_mwh")
_PRICE_FIELDS = ("price", "bid", "ask")


def typed(decision: QuoteDecision) -> QuoteDecision | str:
    """`decision` if every field has its declared type (a float subclass such as numpy.float64
    made a plain float), else what is wrong: an int, Decimal, str or other number where a float
    is required would be sent, compared and audited as something it is not."""
    d = decision
    if (
        type(d.mid) is float
        and type(d.delivery_hours) is float
        and type(d.energy_mwh) is float
        and (d.price is None or type(d.price) is float)
        and (d.bid is None or type(d.bid) is float)
        and (d.ask is None or type(d.ask) is float)
        and (d.side is None or type(d.side) is Action)
        and type(d.curve_id) is str
        and type(d.curve_as_of) is datetime
        and type(d.components) in _MAPPINGS
        and (d.notes is _NO_NOTES or _plain_notes(d.notes))
    ):
        # A loop rather than all() over a generator: cheaper, and this runs for every quote.
        for key, value in d.components.items():
            if type(key) is not str or type(value) is not float:
                break
        else:
            return d
    return _retyped(d)


def _plain_notes(notes: object) -> bool:
    return type(notes) in _MAPPINGS and all(
        type(k) is str and type(v) in (str, float)
        for k, v in notes.items()  # type: ignore[attr-defined]
    )


def _retyped(d: QuoteDecision) -> QuoteDecision | str:
    fields: dict[str, object] = {}
    for name in (*_FLOAT_FIELDS, *_PRICE_FIELDS):
        value = getattr(d, name)
        if value is None and name in _PRICE_FIELDS:
            continue
        number = _as_float(value)
        if number is None:
            return f"a strategy returned {name} as {type(value).__name__}, not a float"
        fields[name] = number
    if d.side is not None and type(d.side) is not Action:
        return f"a strategy returned side as {type(d.side).__name__}, not an Action"
    if type(d.curve_id) is not str:
        return f"a strategy returned curve_id as {type(d.curve_id).__name__}, not a str"
    if not isinstance(d.curve_as_of, datetime):
        return f"a strategy returned curve_as_of as {type(d.curve_as_of).__name__}, not a datetime"
    if not isinstance(d.components, Mapping):
        return f"a strategy returned components as {type(d.components).__name__}, not a mapping"
    components: dict[str, float] = {}
    for key, value in d.components.items():
        number = _as_float(value)
        if type(key) is not str or number is None:
            return (
                f"a strategy returned component {key!r:.40} as {type(value).__name__}, not a float"
            )
        components[key] = number
    if not _plain_notes(d.notes):
        return "a strategy returned notes that are not a mapping of text to text or floats"
    return d._replace(**fields, components=MappingProxyType(components))  # type: ignore[arg-type]


def _as_float(value: object) -> float | None:
    # isinstance, not type: numpy.float64 is a float and converts exactly; an int, a bool, a
    # Decimal, a str or numpy.float32 is not one.
    return float(value) if isinstance(value, float) else None
