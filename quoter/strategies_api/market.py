"""The strategy port: a `Strategy` maps (RFQ, market snapshot) to a decision, purely.

A strategy is a small frozen object of typed parameters with this one method; behaviour is
combined by wrapping (a skew around a spread), not by subclassing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from quoter.domain import LoadShape, Rfq
from quoter.pricing.curve import CurveSet
from quoter.pricing.delivery import DeliveryBucket
from quoter.strategies_api.decision import Decision

_NO_POSITIONS: Mapping[DeliveryBucket, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything a strategy may look at, fixed for one decision.

    `positions_mwh`: the desk's net position per delivery bucket in MWh, long positive (energy
    bought and not sold). Energy rather than MW so that positions of different lengths add up.
    `shape`: the load shape of the RFQ being priced, when it is custom.
    `now`: the instant of the decision, injected; strategies never read a clock. `now_s` is
    the same instant in epoch seconds, converted once per snapshot rather than per use.
    """

    curves: CurveSet
    now: datetime
    positions_mwh: Mapping[DeliveryBucket, float] = field(default_factory=lambda: _NO_POSITIONS)
    shape: LoadShape | None = None
    now_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must carry a UTC offset")
        object.__setattr__(self, "now_s", self.now.timestamp())
        if not isinstance(self.positions_mwh, MappingProxyType):
            object.__setattr__(self, "positions_mwh", MappingProxyType(dict(self.positions_mwh)))


@runtime_checkable
class Strategy(Protocol):
    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        """A quote for `rfq` from `market`, or a decline with its reason. Pure: no I/O, no
        clock, no logging; the same inputs give the same decision."""
        ...
