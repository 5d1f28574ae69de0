"""What the pipeline writes to the audit trail about a decision: the quote it is about to send
(quote-intent) or why it declines, with the strategy, its parameters and version, the curve's
age, the strategy's figures and every risk check. `quoter audit explain` tells these back, and
`quoter backtest calibrate` reads the intents."""

from __future__ import annotations

from quoter.audit import events
from quoter.audit.codec import ABSENT
from quoter.domain import QuoteRequest, Rfq
from quoter.engine.state import StrategySlot
from quoter.risk.checks import ALL_PASSED, PASSED, CheckResult, RiskVerdict
from quoter.strategies_api import Decline, QuoteDecision


def intent(
    rfq: Rfq,
    request: QuoteRequest,
    slot: StrategySlot,
    decision: QuoteDecision,
    verdict: RiskVerdict,
    requote: bool,
    curve_age_s: float,
) -> events.QuoteIntent:
    price, bid, ask = request.price, request.bid, request.ask  # spelled out: once a quote
    return events.QuoteIntent(
        rfq_id=rfq.id,
        client_quote_id=request.client_quote_id,
        strategy=slot.name,
        params=slot.in_effect,
        strategy_version=slot.version,
        curve_age_s=curve_age_s,
        decision=decision_fields(decision),
        checks=check_fields(verdict.results),
        sent=events.SentFields(
            price=None if price is None else price.value,
            bid=None if bid is None else bid.value,
            ask=None if ask is None else ask.value,
            requote=requote,
        ),
        valid_until=request.valid_until.isoformat(),
    )


def decline(
    rfq: Rfq,
    declined: Decline,
    slot: StrategySlot,
    priced: bool,
    decision: QuoteDecision | None,
    checks: tuple[CheckResult, ...],
    curve_age_s: float | None,
) -> events.QuoteDeclined:
    shown = priced or decision is not None  # what priced it, once it got that far
    return events.QuoteDeclined(
        rfq_id=rfq.id,
        reason=declined.reason,
        detail=declined.detail,
        strategy=slot.name,
        params=slot.in_effect if shown else ABSENT,
        strategy_version=slot.version if shown else ABSENT,
        curve_age_s=ABSENT if curve_age_s is None else curve_age_s,
        decision=ABSENT if decision is None else decision_fields(decision),
        checks=check_fields(checks) if checks else ABSENT,
    )


def decision_fields(decision: QuoteDecision) -> events.DecisionFields:
    return events.DecisionFields(
        side=decision.side,
        mid=decision.mid,
        price=decision.price,
        bid=decision.bid,
        ask=decision.ask,
        components=dict(decision.components),
        delivery_hours=decision.delivery_hours,
        energy_mwh=decision.energy_mwh,
        curve_id=decision.curve_id,
        curve_as_of=decision.curve_as_of.isoformat(),
        notes=dict(decision.notes) if decision.notes else ABSENT,
    )


def check_fields(results: tuple[CheckResult, ...]) -> tuple[events.CheckFields, ...]:
    if results is ALL_PASSED.results:
        return _ALL_PASSED_FIELDS  # nearly every quote's: its parts made once
    passed = _PASSED_FIELDS
    return tuple(
        [
            passed.get(id(r)) or events.CheckFields(code=r.code, passed=r.passed, detail=r.detail)
            for r in results
        ]
    )


# A pass is one shared result per code (risk.checks.PASSED), so its record part is too: most
# checks pass, and building their parts anew was most of the cost of a decision's record. Keyed
# by the shared result itself (its id: it lives as long as the module), so a check that passed
# with something to say (a reduce-only note) gets its own part.
_PASSED_FIELDS = {
    id(r): events.CheckFields(code=r.code, passed=True, detail=r.detail) for r in PASSED.values()
}
_ALL_PASSED_FIELDS = tuple(_PASSED_FIELDS[id(r)] for r in ALL_PASSED.results)
