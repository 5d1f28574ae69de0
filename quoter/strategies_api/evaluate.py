"""Safe evaluation: a strategy is a plugin, so whatever it does (raise, return NaN, an absurd
or crossed price, the wrong kind of value) becomes a decline with a reason code, never a crash."""

from __future__ import annotations

from dataclasses import replace

from quoter.domain import QuoteType, Rfq
from quoter.pricing.reasons import PRICING_CODES, Decline, ReasonCode
from quoter.strategies_api.decision import (
    PRICE_DECIMALS,
    Decision,
    QuoteDecision,
    is_finite,
    out_of_range,
    typed,
)
from quoter.strategies_api.market import MarketSnapshot, Strategy

DETAIL_CHARS = 300


def evaluate(strategy: Strategy, rfq: Rfq, market: MarketSnapshot) -> Decision:
    """The strategy's decision on `rfq`, checked; any failure of the strategy is a decline.

    KeyboardInterrupt is let through: in the main thread (a replay, `quoter price`, an engine
    told to price inline) it is most likely the desk's Ctrl-C landing while the strategy runs,
    and it must stop the process as it would anywhere else; a live engine prices in a thread
    of its own, which no Ctrl-C reaches, and turns one raised there into a decline."""
    try:
        decision: object = strategy.price(rfq, market)
    # The plugin boundary: a strategy's bug declines this RFQ, it must not stop the engine.
    except Exception as error:
        return Decline(ReasonCode.STRATEGY_ERROR, describe_error(error))
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit, GeneratorExit, CancelledError, ... as data
        return Decline(ReasonCode.STRATEGY_ERROR, describe_error(error))
    try:
        return check_decision(rfq, decision)
    except Exception as error:  # a value whose comparisons or conversions raise
        return _invalid(
            f"a strategy returned a decision that cannot be checked: {describe_error(error)}"
        )


def describe_error(error: BaseException) -> str:
    """`Type: message`, bounded; a message that itself fails to print is not the engine's end."""
    try:
        message = str(error)
    except KeyboardInterrupt:
        raise
    except BaseException:  # a plugin's __str__ is plugin code too
        message = "(its message cannot be printed)"
    return f"{type(error).__name__}: {message}"[:DETAIL_CHARS]


def check_decision(rfq: Rfq, decision: object) -> Decision:
    """`decision` if it is a valid answer to `rfq` (prices rounded to 3 decimals), else a decline.
    Only the decision types themselves pass (not subclasses, whose methods a plugin wrote)."""
    if type(decision) is Decline:
        return _checked_decline(decision)
    if type(decision) is not QuoteDecision:
        return _invalid(f"a strategy returned {type(decision).__name__}, not a decision")
    checked = typed(decision)
    if isinstance(checked, str):
        return _invalid(checked)
    if not is_finite(checked):
        return Decline(
            ReasonCode.STRATEGY_NAN,
            f"a strategy returned a non-finite number: {checked}"[:DETAIL_CHARS],
        )
    problem = _side_problem(rfq, checked)
    if problem is not None:
        return _invalid(problem)
    rounded = _rounded(checked)
    return out_of_range(rounded.prices()) or rounded


def _checked_decline(decline: Decline) -> Decision:
    if type(decline.detail) is not str:
        return _invalid(f"a strategy declined with a {type(decline.detail).__name__} detail")
    reason = decline.reason
    if type(reason) is not ReasonCode and type(reason) is not str:
        return _invalid(f"a strategy declined with a {type(reason).__name__} reason")
    try:
        code = ReasonCode(reason)
    except ValueError:
        return _invalid(f"a strategy declined with unknown reason {reason[:50]!r}")
    if code not in PRICING_CODES:  # the engine's and the limits' codes are theirs to give
        return _invalid(f"a strategy declined with {code!r}, a reason only the engine gives")
    return replace(decline, reason=code, detail=decline.detail[:DETAIL_CHARS])


def _side_problem(rfq: Rfq, decision: QuoteDecision) -> str | None:
    if rfq.quote_type is QuoteType.TWO_WAY:
        if decision.bid is None or decision.ask is None or decision.price is not None:
            return "a two-way RFQ needs a bid and an ask and no single price"
        if round(decision.bid, PRICE_DECIMALS) >= round(decision.ask, PRICE_DECIMALS):
            return f"bid {decision.bid} is not below ask {decision.ask}"
        return None
    if decision.price is None or decision.bid is not None or decision.ask is not None:
        return "a one-way RFQ needs a single price"
    if decision.side is not rfq.our_side:
        return f"a quote for side {decision.side} on an RFQ where we {rfq.our_side}"
    return None


def _rounded(decision: QuoteDecision) -> QuoteDecision:
    def r(price: float | None) -> float | None:
        return None if price is None else round(price, PRICE_DECIMALS)

    price, bid, ask = decision.price, decision.bid, decision.ask
    if (price is None or price == round(price, PRICE_DECIMALS)) and (
        bid is None or (bid == round(bid, PRICE_DECIMALS) and ask == r(ask))
    ):
        return decision
    return decision._replace(price=r(decision.price), bid=r(decision.bid), ask=r(decision.ask))


def _invalid(detail: str) -> Decline:
    return Decline(ReasonCode.STRATEGY_INVALID, detail[:DETAIL_CHARS])
