"""The strategy plugin surface: the `Strategy` port, the market snapshot it sees, the decisions
it returns, the loader and the safe evaluation the engine calls."""

from quoter.pricing.delivery import DeliveryBucket
from quoter.pricing.reasons import Decline, DeclineCode, ReasonCode
from quoter.strategies_api.decision import (
    Decision,
    DeliveryFacts,
    QuoteDecision,
    assemble_quote,
    build_quote,
    shift_quote,
)
from quoter.strategies_api.evaluate import check_decision, evaluate
from quoter.strategies_api.loader import (
    StrategyLoadError,
    load_strategy,
    parameters_in_effect,
    strategy_version,
)
from quoter.strategies_api.market import MarketSnapshot, Strategy

__all__ = [
    "Decision",
    "Decline",
    "DeclineCode",
    "DeliveryBucket",
    "DeliveryFacts",
    "MarketSnapshot",
    "QuoteDecision",
    "ReasonCode",
    "Strategy",
    "StrategyLoadError",
    "assemble_quote",
    "build_quote",
    "check_decision",
    "evaluate",
    "load_strategy",
    "parameters_in_effect",
    "shift_quote",
    "strategy_version",
]
