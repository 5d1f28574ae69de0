"""A request for quote as the engine sees it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from quoter.domain.market import Action, Instrument, Load


class RfqStatus(StrEnum):
    OPEN = "open"
    TRADED = "traded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class QuoteType(StrEnum):
    ONE_WAY = "one-way"
    TWO_WAY = "two-way"


class MyQuoteStatus(StrEnum):
    NOT_QUOTED = "not-quoted"
    QUOTED = "quoted"
    WON = "won"
    LOST = "lost"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Rfq:
    """One entender RFQ. `action` is the requester's side, None on a two-way RFQ."""

    id: str
    short_id: str
    venue: str
    status: RfqStatus
    created_at: datetime
    updated_at: datetime
    quote_deadline: datetime
    requester_id: str
    requester_name: str
    action: Action | None
    quote_type: QuoteType
    instrument: Instrument
    quantity_mw: float
    shape_ref: str | None
    currency: str
    my_quote_status: MyQuoteStatus

    def __post_init__(self) -> None:
        if not math.isfinite(self.quantity_mw) or self.quantity_mw <= 0:
            raise ValueError(
                f"quantity must be a positive finite MW figure, got {self.quantity_mw}"
            )
        if (self.quote_type is QuoteType.TWO_WAY) != (self.action is None):
            raise ValueError("action must be null exactly when the RFQ is two-way")
        if (self.instrument.load is Load.CUSTOM) != (self.shape_ref is not None):
            raise ValueError("a load shape reference goes with a custom load, and only with it")

    @property
    def our_side(self) -> Action | None:
        """The side we take if we win: we sell when the requester buys."""
        return None if self.action is None else self.action.opposite
