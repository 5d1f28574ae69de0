"""The pure steps around a strategy's decision: may this RFQ be quoted now, what would the
quote risk, and what exactly is sent. No I/O: the engine sequences these with the venue calls."""

from __future__ import annotations

from datetime import datetime, timedelta

from quoter.domain import Price, QuoteRequest, Rfq, RfqStatus
from quoter.engine.config import QuotingConfig
from quoter.pricing.curve import CurveSet
from quoter.pricing.delivery import Delivery
from quoter.pricing.reasons import STRATEGY_FAULTS, Decline, DeclineCode
from quoter.pricing.valuation import value_delivery
from quoter.risk.checks import Proposal, RiskVerdict
from quoter.strategies_api import QuoteDecision


def precheck(rfq: Rfq, now: datetime, config: QuotingConfig) -> Decline | None:
    """Whether there is still time to price and send a quote for `rfq`."""
    if rfq.status is not RfqStatus.OPEN:
        return Decline(DeclineCode.NOT_OPEN, f"RFQ is {rfq.status}")
    left_s = (rfq.quote_deadline - now).total_seconds()
    if left_s < config.min_time_to_deadline_s:
        return Decline(DeclineCode.TOO_LATE, f"{left_s:.1f} s left before the deadline")
    return None


def proposal_of(
    rfq: Rfq, decision: QuoteDecision, delivery: Delivery, curves: CurveSet
) -> Proposal | Decline:
    """What the quote would risk, its mid the curves' price of the delivery, not the mid the
    strategy reports: the collar and the drift hold a quote against the curve, so a strategy
    that says its own price is mid cannot walk it past them. A delivery the curves cannot
    price has no mid to hold the quote against: declined (a strategy pricing from a source of
    its own is still checked against the desk's curves)."""
    valued = value_delivery(delivery, curves)
    if isinstance(valued, Decline):
        return Decline(valued.reason, f"no curve mid to check the quote against: {valued.detail}")
    return Proposal(
        rfq=rfq,
        prices=decision.prices(),
        mid=valued.mid_eur_mwh,
        energy_mwh=delivery.energy_mwh,
        buckets_mwh=dict(delivery.buckets()),
    )


# Declines that may pass while the RFQ is still open: it is priced again once what declined
# it has changed (a kill lifted, a condition cleared, the market open, new curves, another
# strategy), not left declined until its deadline.
HOLDS_GATE = frozenset({DeclineCode.KILLED, DeclineCode.REDUCING, DeclineCode.MARKET_CLOSED})
HOLDS_CURVES = frozenset({DeclineCode.NO_CURVE, DeclineCode.OUTSIDE_CURVE, DeclineCode.CURVE_STALE})
HOLDS_STRATEGY = STRATEGY_FAULTS | {DeclineCode.STRATEGY_TIMEOUT}
HOLDS = HOLDS_GATE | HOLDS_CURVES | HOLDS_STRATEGY

# A limit on the pace of quoting, not a judgement of the quote: a requote it refuses is put
# off, and the live quote stands.
PACING = frozenset({DeclineCode.MAX_QUOTES_PER_MINUTE})


def paces_only(verdict: RiskVerdict) -> bool:
    """Every check `verdict` failed is a pacing limit."""
    return all(f.code in PACING for f in verdict.failures)


def risk_declined(verdict: RiskVerdict) -> Decline | None:
    failures = verdict.failures
    if not failures:
        return None
    first = failures[0]
    detail = "; ".join(f"{f.code}: {f.detail}" for f in failures)
    return Decline(first.code, detail)


def quote_request(
    rfq: Rfq, decision: QuoteDecision, client_quote_id: str, now: datetime, config: QuotingConfig
) -> QuoteRequest:
    """The quote to send: valid for `validity_s`, never past the RFQ's deadline."""
    valid_until = min(now + timedelta(seconds=config.validity_s), rfq.quote_deadline)
    currency = rfq.currency
    price, bid, ask = decision.price, decision.bid, decision.ask  # spelled out: once a quote
    return QuoteRequest(
        rfq_id=rfq.id,
        client_quote_id=client_quote_id,
        valid_until=valid_until,
        price=None if price is None else Price(price, currency),
        bid=None if bid is None else Price(bid, currency),
        ask=None if ask is None else Price(ask, currency),
    )


def moved_enough(old: tuple[float, ...], new: tuple[float, ...], threshold: float) -> bool:
    """Whether a requote is worth a request: some price moved by the threshold or more."""
    return len(old) != len(new) or any(
        abs(a - b) >= threshold for a, b in zip(old, new, strict=True)
    )
