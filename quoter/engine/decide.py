"""The pure steps around a strategy's decision: may this RFQ be quoted now, what would the
quote risk, and what exactly is sent. No I/O: the engine sequences these with the venue calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quoter.domain import Price, QuoteRequest, Rfq, RfqStatus
from quoter.engine.config import QuotingConfig
from quoter.pricing.delivery import Delivery
from quoter.risk.checks import Proposal, RiskVerdict
from quoter.strategies_api import QuoteDecision


class EngineReason(StrEnum):
    """Why the engine, rather than the strategy or a limit, does not quote."""

    NOT_OPEN = "not-open"
    TOO_LATE = "too-late"
    MARKET_CLOSED = "market-closed"
    KILLED = "killed"
    REDUCING = "reducing"
    QUEUE_FULL = "queue-full"
    STRATEGY_TIMEOUT = "strategy-timeout"
    SHAPE_UNAVAILABLE = "shape-unavailable"


@dataclass(frozen=True, slots=True)
class Declined:
    """No quote. `reason` is a bounded code: an EngineReason, a pricing ReasonCode or a risk
    check code; `detail` is for people and the audit trail."""

    reason: str
    detail: str


def precheck(rfq: Rfq, now: datetime, config: QuotingConfig) -> Declined | None:
    """Whether there is still time to price and send a quote for `rfq`."""
    if rfq.status is not RfqStatus.OPEN:
        return Declined(EngineReason.NOT_OPEN, f"RFQ is {rfq.status}")
    left_s = (rfq.quote_deadline - now).total_seconds()
    if left_s < config.min_time_to_deadline_s:
        return Declined(EngineReason.TOO_LATE, f"{left_s:.1f} s left before the deadline")
    return None


def proposal_of(rfq: Rfq, decision: QuoteDecision, delivery: Delivery) -> Proposal:
    return Proposal(
        rfq=rfq,
        prices=decision.prices(),
        mid=decision.mid,
        energy_mwh=delivery.energy_mwh,
        buckets_mwh=dict(delivery.buckets()),
    )


def risk_declined(verdict: RiskVerdict) -> Declined | None:
    failures = verdict.failures
    if not failures:
        return None
    first = failures[0]
    detail = "; ".join(f"{f.code}: {f.detail}" for f in failures)
    return Declined(first.code, detail)


def quote_request(
    rfq: Rfq, decision: QuoteDecision, client_quote_id: str, now: datetime, config: QuotingConfig
) -> QuoteRequest:
    """The quote to send: valid for `validity_s`, never past the RFQ's deadline."""
    valid_until = min(now + timedelta(seconds=config.validity_s), rfq.quote_deadline)
    currency = rfq.currency

    def price(value: float | None) -> Price | None:
        return None if value is None else Price(value, currency)

    return QuoteRequest(
        rfq_id=rfq.id,
        client_quote_id=client_quote_id,
        valid_until=valid_until,
        price=price(decision.price),
        bid=price(decision.bid),
        ask=price(decision.ask),
    )


def moved_enough(old: tuple[float, ...], new: tuple[float, ...], threshold: float) -> bool:
    """Whether a requote is worth a request: some price moved by the threshold or more."""
    return len(old) != len(new) or any(
        abs(a - b) >= threshold for a, b in zip(old, new, strict=True)
    )
