"""win_curve: quote the markup that maximises the expected profit markup * f(markup) for the
RFQ's segment of the flow, f the desk's fitted win curve (`quoter backtest calibrate --fit-out`,
`quoter.pricing.winfit`), leaning against the desk's position in the delivery's months.

markup = clip(d* level / 10,000, min, max), d* (bp) solving b d = 1 + e^(-a - b d) for the
segment's (a, b) (the pooled fit's for a segment the fit has not seen), level the price level
max(|mid|, 1 EUR/MWh): the fit measures markups in bp of it, as competitors scale their spreads
with the price (`quoter.pricing.winfit`); the lean, -lean_eur_mwh_per_mwh * exposure
(MWh, as `inventory_skew` measures it), moves every price alike, as far as keeps each side's
markup within [min, max]. One-way: mid + markup when we sell, mid - markup when we buy;
two-way: both. The fit file is read when the strategy is built (a bad one refuses the load or
the swap); a swap with a new `fit` points it at a new fit. Its id is the strategy's version.
"""

from __future__ import annotations

from dataclasses import dataclass as plain_dataclass
from types import MappingProxyType
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from quoter.domain import Action, Rfq
from quoter.pricing.delivery import delivery_of
from quoter.pricing.valuation import value_instrument
from quoter.pricing.winfit import (
    Parts,
    SegmentFit,
    WinFit,
    counterparty_group,
    key_of_parts,
    load_fit,
    markup_eur_mwh,
    optimal_markup,
    parts_of_key,
    segment_parts,
)
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    ReasonCode,
    assemble_quote,
    shift_quote,
)
from strategies.inventory_skew import exposure_mwh

DAY_S = 86400
Markup = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


@plain_dataclass(frozen=True, slots=True)
class _Optimum:
    markup_bp: float
    win_probability: float


def _optimum(fit: SegmentFit) -> _Optimum:
    markup = optimal_markup(fit.a, fit.b)
    return _Optimum(markup, 1.0 - 1.0 / (fit.b * markup))


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class WinCurve:
    """The markup that maximises the expected profit on the desk's win curve for the RFQ's
    segment, leaned against the desk's position, within bounds.

    fit: the fit file (JSON). min/max_markup_eur_mwh: the bounds of the markup on each side.
    lean_eur_mwh_per_mwh: EUR/MWh every price moves per MWh of the desk's exposure, against it."""

    fit: str
    min_markup_eur_mwh: Markup = 0.05
    max_markup_eur_mwh: Markup = 5.0
    lean_eur_mwh_per_mwh: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0001

    def __post_init__(self) -> None:
        if self.min_markup_eur_mwh > self.max_markup_eur_mwh:
            raise ValueError("min_markup_eur_mwh must not exceed max_markup_eur_mwh")
        fitted = load_fit(self.fit)  # the one read: price() does no I/O
        # By the segment's values, not its name: spelling a name costs more than pricing.
        optima = {}
        for key, segment in fitted.segments.items():
            parts = parts_of_key(key, fitted.tenor_days, fitted.size_mw)
            if parts is not None:
                optima[parts] = (key, _optimum(segment))
        object.__setattr__(self, "_fitted", fitted)
        object.__setattr__(self, "_optima", MappingProxyType(optima))
        object.__setattr__(self, "_pooled", _optimum(fitted.pooled))

    @property
    def version(self) -> str:
        """What the audit trail records as the strategy's version: the fit's id."""
        return f"fit {self._fit.fit_id}"

    @property
    def _fit(self) -> WinFit:
        fitted: WinFit = self.__dict__["_fitted"]
        return fitted

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        if rfq.currency != "EUR":
            return Decline(
                ReasonCode.UNSUPPORTED_CURRENCY, f"curves are in EUR, not {rfq.currency}"
            )
        instrument, fit = rfq.instrument, self._fit
        valued = value_instrument(instrument, market.shape, market.curves)
        if isinstance(valued, Decline):
            return valued
        parts = segment_parts(
            instrument.commodity.value,
            instrument.market_area,
            (valued.start_s - market.now_s) / DAY_S,
            rfq.quantity_mw,
            rfq.action is None,
            counterparty_group(rfq.requester_id, fit.counterparties),
            fit.tenor_days,
            fit.size_mw,
        )
        optima: MappingProxyType[Parts, tuple[str, _Optimum]] = self.__dict__["_optima"]
        found = optima.get(parts)
        if found is None:
            key = key_of_parts(parts, fit.tenor_days, fit.size_mw)
            segment, optimum = f"pooled (no fit for {key})", self.__dict__["_pooled"]
        else:
            segment, optimum = found
        low, high = self.min_markup_eur_mwh, self.max_markup_eur_mwh
        mid = valued.mid_eur_mwh
        optimal = markup_eur_mwh(optimum.markup_bp, mid)
        markup = min(high, max(low, optimal))
        lean = 0.0
        if market.positions_mwh:
            delivery = delivery_of(rfq, market.shape)
            if isinstance(delivery, Decline):
                return delivery
            lean = -self.lean_eur_mwh_per_mwh * exposure_mwh(delivery, market.positions_mwh)
        side = rfq.our_side
        # The room the lean has before a side's markup leaves [low, high]: selling, the ask's
        # markup is markup + shift; buying, the bid's is markup - shift; two-way, both.
        sell_room, buy_room = (low - markup, high - markup), (markup - high, markup - low)
        if side is None:
            room = (max(sell_room[0], buy_room[0]), min(sell_room[1], buy_room[1]))
        else:
            room = sell_room if side is Action.SELL else buy_room
        shift = min(room[1], max(room[0], lean))
        shape_energy_mwh = valued.shape_energy_mwh
        energy_mwh = (
            rfq.quantity_mw * valued.hours if shape_energy_mwh is None else shape_energy_mwh
        )
        facts = (valued.hours, energy_mwh, market.curves.id, valued.curve_as_of)
        components = MappingProxyType({"mid": mid, "markup": markup, "inventory": 0.0})
        shifted = assemble_quote(side, mid, markup, components, facts)
        if shift and not isinstance(shifted, Decline):
            shifted = shift_quote(shifted, "inventory", shift)
        if isinstance(shifted, Decline):
            return shifted
        notes = {
            "segment": segment,
            "optimal-markup": optimal,
            "optimal-markup-bp": optimum.markup_bp,
            "win-probability": optimum.win_probability,
            "inventory-lean": lean,
            "fit": fit.fit_id,
        }
        return shifted._replace(notes=MappingProxyType(notes))
