"""What the pipeline writes to the audit trail about a decision: the quote it is about to send
(quote-intent) or why it declines, with the strategy, its parameters and version, the curve's
age, the strategy's figures and every risk check. `quoter audit explain` tells these back, and
`quoter backtest calibrate` reads the intents."""

from __future__ import annotations

import sys

from quoter.domain import Price, QuoteRequest, Rfq
from quoter.engine.state import StrategySlot
from quoter.risk.checks import CheckResult, RiskVerdict
from quoter.strategies_api import Decline, QuoteDecision

Record = dict[str, object]


def intent(
    rfq: Rfq,
    request: QuoteRequest,
    slot: StrategySlot,
    decision: QuoteDecision,
    verdict: RiskVerdict,
    requote: bool,
    curve_age_s: float,
) -> Record:
    return {
        "rfq-id": rfq.id,
        "client-quote-id": request.client_quote_id,
        "strategy": slot.name,
        "params": slot.params,
        "strategy-version": strategy_version(slot),
        "curve-age-s": curve_age_s,
        "decision": decision_record(decision),
        "checks": check_records(verdict.results),
        "sent": {
            "price": _value(request.price),
            "bid": _value(request.bid),
            "ask": _value(request.ask),
            "requote": requote,
        },
        "valid-until": request.valid_until.isoformat(),
    }


def decline(
    rfq: Rfq,
    declined: Decline,
    slot: StrategySlot,
    priced: bool,
    decision: QuoteDecision | None,
    checks: tuple[CheckResult, ...],
    curve_age_s: float | None,
) -> Record:
    data: Record = {
        "rfq-id": rfq.id,
        "reason": str(declined.reason),
        "detail": declined.detail,
        "strategy": slot.name,
    }
    if priced or decision is not None:
        data["params"] = slot.params
        data["strategy-version"] = strategy_version(slot)
    if curve_age_s is not None:
        data["curve-age-s"] = curve_age_s
    if decision is not None:
        data["decision"] = decision_record(decision)
    if checks:
        data["checks"] = check_records(checks)
    return data


def decision_record(decision: QuoteDecision) -> Record:
    record = _decision_fields(decision)
    if decision.notes:
        record["notes"] = dict(decision.notes)
    return record


def _decision_fields(decision: QuoteDecision) -> Record:
    return {
        "side": decision.side,
        "mid": decision.mid,
        "price": decision.price,
        "bid": decision.bid,
        "ask": decision.ask,
        "components": dict(decision.components),
        "delivery-hours": decision.delivery_hours,
        "energy-mwh": decision.energy_mwh,
        "curve-id": decision.curve_id,
        "curve-as-of": decision.curve_as_of.isoformat(),
    }


def check_records(results: tuple[CheckResult, ...]) -> list[Record]:
    # Plain dicts, not dataclasses.asdict: its deep copy was a tenth of a replayed decision.
    return [{"code": r.code, "passed": r.passed, "detail": r.detail} for r in results]


def strategy_version(slot: StrategySlot) -> str | None:
    """A strategy's own `version` attribute, or its module's `__version__`, if it has one."""
    version = getattr(slot.strategy, "version", None)
    if version is None:
        module = sys.modules.get(type(slot.strategy).__module__)
        version = getattr(module, "__version__", None)
    return None if version is None else str(version)


def _value(price: Price | None) -> float | None:
    return None if price is None else price.value
