"""Safe evaluation: whatever a strategy does becomes a valid decision or a coded decline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from quoter.domain import Action, QuoteType, Rfq
from quoter.strategies_api import (
    Decline,
    MarketSnapshot,
    QuoteDecision,
    ReasonCode,
    evaluate,
)
from strategies.curve_spread import CurveSpread
from tests.strategies.factories import AS_OF, period_rfq, snapshot

MAY = (date(2026, 5, 1), date(2026, 6, 1))


def quote(**fields: Any) -> QuoteDecision:
    base = QuoteDecision(
        Action.SELL, 50.0, 50.5, None, None, {"mid": 50.0}, 744.0, 7440.0, "id", AS_OF
    )
    return base._replace(**fields)


@dataclass(frozen=True)
class Fixed:
    """A test strategy that returns whatever it was given, or raises it."""

    result: object

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _decline(result: object, rfq: Rfq | None = None) -> Decline:
    decision = evaluate(Fixed(result), rfq or period_rfq(*MAY), snapshot())
    assert isinstance(decision, Decline), decision
    return decision


def test_a_strategy_that_raises_is_declined() -> None:
    decline = _decline(ZeroDivisionError("division by zero"))
    assert decline == Decline(ReasonCode.STRATEGY_ERROR, "ZeroDivisionError: division by zero")


@pytest.mark.parametrize(
    "bad", [{"price": float("nan")}, {"mid": float("inf")}, {"components": {"mid": float("nan")}}]
)
def test_nan_or_infinite_numbers_are_declined(bad: dict[str, Any]) -> None:
    assert _decline(quote(**bad)).reason is ReasonCode.STRATEGY_NAN


def test_an_absurd_price_is_declined() -> None:
    decline = _decline(quote(price=1e6))
    assert decline.reason is ReasonCode.PRICE_OUT_OF_RANGE


@pytest.mark.parametrize(
    ("result", "quote_type", "expected"),
    [
        ("a price", QuoteType.ONE_WAY, "returned str, not a decision"),
        (quote(price=None, bid=1.0, ask=2.0), QuoteType.ONE_WAY, "needs a single price"),
        (quote(side=Action.BUY), QuoteType.ONE_WAY, "where we sell"),
        (quote(), QuoteType.TWO_WAY, "needs a bid and an ask"),
        (quote(side=None, price=None, bid=2.0, ask=2.0), QuoteType.TWO_WAY, "not below ask"),
        (Decline("made-up", "x"), QuoteType.ONE_WAY, "unknown reason 'made-up'"),  # type: ignore[arg-type]
    ],
)
def test_invalid_decisions_are_declined(
    result: object, quote_type: QuoteType, expected: str
) -> None:
    rfq = period_rfq(*MAY, quote_type=quote_type)
    decline = _decline(result, rfq)
    assert decline.reason is ReasonCode.STRATEGY_INVALID
    assert expected in decline.detail


def test_valid_decisions_pass_with_prices_rounded() -> None:
    decision = evaluate(Fixed(quote(price=50.12345)), period_rfq(*MAY), snapshot())
    assert isinstance(decision, QuoteDecision)
    assert decision.price == 50.123
    real = evaluate(CurveSpread(), period_rfq(*MAY), snapshot())
    assert real == CurveSpread().price(period_rfq(*MAY), snapshot())


def test_a_plugin_decline_with_a_known_reason_string_is_kept() -> None:
    decline = _decline(Decline("no-curve", "none"))  # type: ignore[arg-type]
    assert decline.reason is ReasonCode.NO_CURVE


def test_reason_codes_are_short_kebab_case() -> None:
    for code in ReasonCode:
        assert code.value == code.name.lower().replace("_", "-")
        assert len(code.value) <= 24


def test_a_plugin_cannot_decline_with_a_reason_only_the_engine_or_a_limit_gives() -> None:
    for code in (ReasonCode.KILLED, ReasonCode.MAX_VOLUME):
        decline = _decline(Decline(code, "not mine to say"))
        assert decline.reason is ReasonCode.STRATEGY_INVALID, code
        assert "a reason only the engine gives" in decline.detail
    assert _decline(Decline("too-late", "x")).reason is ReasonCode.STRATEGY_INVALID  # type: ignore[arg-type]
