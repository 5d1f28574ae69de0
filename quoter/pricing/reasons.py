"""Why the bot does not quote: a closed set of short kebab-case reason codes (bounded metric
labels) and the `Decline` value that pricing and strategies return instead of raising."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    """Every reason a delivery cannot be priced or a strategy declines.

    Delivery and curve:
      unknown-area          the market area is not one the venue contract names
      bad-maturity          maturity not on hour boundaries (gas: not on 06:00 local gas days)
      no-delivery-hours     the load has no hours inside the maturity (peak over a weekend)
      shape-missing         a custom RFQ without its load shape
      shape-mismatch        a load shape outside the maturity, off its resolution's grid, not
                            covering exactly the maturity's intervals, or without energy
      no-curve              no curve series for the (commodity, market area)
      outside-curve         the curve does not cover the delivery (or not on the curve's grid)
    Quote:
      unsupported-currency  a currency other than the curves' EUR
      price-out-of-range    a price outside the venue's [-500, 4000] EUR/MWh
    Strategy (set by `evaluate`, never trusted from the plugin itself):
      strategy-error        the strategy raised
      strategy-nan          the strategy returned a NaN or infinite number
      strategy-invalid      the strategy returned something that is not a valid decision
                            (wrong type, no price for the side asked, bid not below ask)
    """

    UNKNOWN_AREA = "unknown-area"
    BAD_MATURITY = "bad-maturity"
    NO_DELIVERY_HOURS = "no-delivery-hours"
    SHAPE_MISSING = "shape-missing"
    SHAPE_MISMATCH = "shape-mismatch"
    NO_CURVE = "no-curve"
    OUTSIDE_CURVE = "outside-curve"
    UNSUPPORTED_CURRENCY = "unsupported-currency"
    PRICE_OUT_OF_RANGE = "price-out-of-range"
    STRATEGY_ERROR = "strategy-error"
    STRATEGY_NAN = "strategy-nan"
    STRATEGY_INVALID = "strategy-invalid"


@dataclass(frozen=True, slots=True)
class Decline:
    """No quote: a reason code for metrics and a detail for people and the audit log."""

    reason: ReasonCode
    detail: str
