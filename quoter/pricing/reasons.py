"""Why the bot does not quote: one closed set of short kebab-case codes (bounded metric labels)
and the one `Decline` value that pricing, strategies, the engine and the risk checks give."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeclineCode(StrEnum):
    """Every reason the bot does not quote an RFQ: one closed set, the same strings in the audit
    trail and the metrics, whoever declines.

    Delivery and curve (pricing, and strategies through it):
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
      price-out-of-range    a (finite) price outside the venue's [-500, 4000] EUR/MWh
    Strategy (set by `evaluate`, never trusted from the plugin itself):
      strategy-error        the strategy raised (build_quote raises on a quote through mid)
      strategy-nan          the strategy returned a NaN or infinite number
      strategy-invalid      the strategy returned something that is not a valid decision
                            (wrong type, no price for the side asked, bid not below ask)
    Engine (the engine, not the strategy or a limit):
      not-open, too-late, market-closed, killed, reducing, queue-full, strategy-timeout,
      shape-unavailable
    Risk checks (a limit; the first failing check names the decline):
      area-not-allowed, load-not-allowed, product-not-allowed, price-band, curve-stale,
      collar, drift, max-volume, max-notional, max-open-quotes, max-quotes-per-minute,
      position-limit, credit-limit, fill-throttle
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
    # the engine
    NOT_OPEN = "not-open"
    TOO_LATE = "too-late"
    MARKET_CLOSED = "market-closed"
    KILLED = "killed"
    REDUCING = "reducing"
    QUEUE_FULL = "queue-full"
    STRATEGY_TIMEOUT = "strategy-timeout"
    SHAPE_UNAVAILABLE = "shape-unavailable"
    # the risk checks
    AREA_NOT_ALLOWED = "area-not-allowed"
    LOAD_NOT_ALLOWED = "load-not-allowed"
    PRODUCT_NOT_ALLOWED = "product-not-allowed"
    PRICE_BAND = "price-band"
    CURVE_STALE = "curve-stale"
    COLLAR = "collar"
    DRIFT = "drift"
    MAX_VOLUME = "max-volume"
    MAX_NOTIONAL = "max-notional"
    MAX_OPEN_QUOTES = "max-open-quotes"
    MAX_QUOTES_PER_MINUTE = "max-quotes-per-minute"
    POSITION_LIMIT = "position-limit"
    CREDIT_LIMIT = "credit-limit"
    FILL_THROTTLE = "fill-throttle"


# The name strategies know it by (`quoter.strategies_api.ReasonCode`): the same type.
ReasonCode = DeclineCode

PRICING_CODES: frozenset[DeclineCode] = frozenset(
    {
        DeclineCode.UNKNOWN_AREA,
        DeclineCode.BAD_MATURITY,
        DeclineCode.NO_DELIVERY_HOURS,
        DeclineCode.SHAPE_MISSING,
        DeclineCode.SHAPE_MISMATCH,
        DeclineCode.NO_CURVE,
        DeclineCode.OUTSIDE_CURVE,
        DeclineCode.UNSUPPORTED_CURRENCY,
        DeclineCode.PRICE_OUT_OF_RANGE,
        DeclineCode.STRATEGY_ERROR,
        DeclineCode.STRATEGY_NAN,
        DeclineCode.STRATEGY_INVALID,
    }
)
"""What pricing and strategies decline with: a plugin's own decline must name one of these."""
ENGINE_CODES: frozenset[DeclineCode] = frozenset(
    {
        DeclineCode.NOT_OPEN,
        DeclineCode.TOO_LATE,
        DeclineCode.MARKET_CLOSED,
        DeclineCode.KILLED,
        DeclineCode.REDUCING,
        DeclineCode.QUEUE_FULL,
        DeclineCode.STRATEGY_TIMEOUT,
        DeclineCode.SHAPE_UNAVAILABLE,
    }
)
RISK_CODES: frozenset[DeclineCode] = frozenset(set(DeclineCode) - PRICING_CODES - ENGINE_CODES)
STRATEGY_FAULTS: frozenset[DeclineCode] = frozenset(
    {DeclineCode.STRATEGY_ERROR, DeclineCode.STRATEGY_NAN, DeclineCode.STRATEGY_INVALID}
)


@dataclass(frozen=True, slots=True)
class Decline:
    """No quote, whoever says so (pricing, a strategy, the engine, a risk check): a bounded
    code for metrics and the audit trail, and a detail for people."""

    reason: DeclineCode
    detail: str
