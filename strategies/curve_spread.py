"""curve_spread: quote around the curve's price of the delivery, a half-spread away that grows
with tenor, load and size, plus a credit add-on per counterparty.

One-way: the requester buys, we sell at mid + half-width; the requester sells, we bid
mid - half-width. Two-way: bid and ask around mid (at least one tick apart).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, NamedTuple

from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

from quoter.domain import Action, Load, Rfq
from quoter.pricing.valuation import value_instrument
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    ReasonCode,
    assemble_quote,
)

DAY_S = 86400
# Rfq.our_side as a table: the property chain costs a tenth of a decision.
_OUR_SIDE: Mapping[Action | None, Action | None] = MappingProxyType(
    {None: None, **{action: action.opposite for action in Action}}
)
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Steps = tuple[tuple[NonNegative, NonNegative], ...]


class _Tables(NamedTuple):
    """The steps as look-up tables: `values[bisect_left(bounds, x)]` is the value of the first
    step whose bound is at least `x`, or the last step's value beyond (repeated at the end)."""

    tenor_bounds: tuple[float, ...]
    tenor_values: tuple[float, ...]
    size_bounds: tuple[float, ...]
    size_values: tuple[float, ...]


def _bounds(steps: Steps) -> tuple[float, ...]:
    return tuple(bound for bound, _ in steps)


def _values(steps: Steps) -> tuple[float, ...]:
    return (*(value for _, value in steps), steps[-1][1])


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class CurveSpread:
    """The curve's price of the delivery, a half-spread away by tenor, load and size, plus a
    credit add-on per counterparty; one- and two-way.

    Parameters, all EUR/MWh unless named otherwise.

    tenor_half_spread_eur_mwh: (days from now to delivery start up to, half-spread) steps.
    load_factor: multiplies the tenor half-spread per load.
    size_add_on_eur_mwh: (quantity in MW up to, add-on) steps, added to the half-spread.
    credit_eur_mwh: add-on per requester company id; credit_default_eur_mwh for the others.
    """

    tenor_half_spread_eur_mwh: Steps = ((7, 0.15), (31, 0.2), (92, 0.3), (366, 0.4), (1096, 0.6))
    load_factor: Mapping[Load, NonNegative] = Field(
        default_factory=lambda: MappingProxyType(
            {Load.BASE: 1.0, Load.PEAK: 1.25, Load.OFF_PEAK: 1.25, Load.CUSTOM: 1.5}
        )
    )
    size_add_on_eur_mwh: Steps = ((25, 0.0), (100, 0.05), (500, 0.15))
    credit_eur_mwh: Mapping[str, NonNegative] = Field(default_factory=dict)
    credit_default_eur_mwh: NonNegative = 0.05

    @field_validator("tenor_half_spread_eur_mwh", "size_add_on_eur_mwh")
    @classmethod
    def _ascending(cls, steps: Steps) -> Steps:
        bounds = [bound for bound, _ in steps]
        if not steps or bounds != sorted(set(bounds)):
            raise ValueError("steps must be non-empty with strictly ascending bounds")
        return steps

    @field_validator("load_factor", "credit_eur_mwh")
    @classmethod
    def _frozen(cls, table: Mapping[object, float]) -> Mapping[object, float]:
        return MappingProxyType(dict(table))

    # The hot path of the benchmark: one function on purpose, since each call and attribute
    # look-up saved here is a measurable share of a decision.
    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        if rfq.currency != "EUR":
            return Decline(
                ReasonCode.UNSUPPORTED_CURRENCY, f"curves are in EUR, not {rfq.currency}"
            )
        instrument, curves, quantity_mw = rfq.instrument, market.curves, rfq.quantity_mw
        valued = value_instrument(instrument, market.shape, curves)
        if isinstance(valued, Decline):
            return valued
        tables = self._tables
        # A delivery already started (days ahead < 0) takes the first tenor step, as at 0.
        days_ahead = (valued.start_s - market.now_s) / DAY_S
        tenor = tables.tenor_values[bisect_left(tables.tenor_bounds, days_ahead)]
        size = tables.size_values[bisect_left(tables.size_bounds, quantity_mw)]
        half_spread = tenor * self.load_factor.get(instrument.load, 1.0) + size
        credit = self.credit_eur_mwh.get(rfq.requester_id, self.credit_default_eur_mwh)
        mid = valued.mid_eur_mwh
        components = MappingProxyType({"mid": mid, "half-spread": half_spread, "credit": credit})
        shape_energy_mwh = valued.shape_energy_mwh
        energy_mwh = quantity_mw * valued.hours if shape_energy_mwh is None else shape_energy_mwh
        facts = (valued.hours, energy_mwh, curves.id, valued.curve_as_of)
        side = _OUR_SIDE[rfq.action]
        return assemble_quote(side, mid, half_spread + credit, components, facts)

    # Built on first use from the frozen parameters (a cached property writes the instance
    # dict directly, which a frozen dataclass allows).
    @cached_property
    def _tables(self) -> _Tables:
        tenor, size = self.tenor_half_spread_eur_mwh, self.size_add_on_eur_mwh
        return _Tables(_bounds(tenor), _values(tenor), _bounds(size), _values(size))
