"""Calibrating the logistic fill model on the desk's own history: the audit trail of a live run
holds, for every quote, the price sent and the curve mid it was priced from (quote-intent) and,
once the RFQ ended, whether the quote won or lost (outcome). Each one-way quote with a known
outcome gives one (edge, won) pair, edge measured as `LogisticFill` measures it: how much better
than the mid our price was for the requester (mid - price when we sell, price - mid when we buy).

Two-way quotes are left out: a lost one does not say which side the requester would have taken.
A requote replaces the quote it followed, so the last intent before the outcome counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from quoter.audit import events
from quoter.audit.codec import dump_fields
from quoter.backtest.fills import fit_logistic
from quoter.domain import Action, MyQuoteStatus

MIN_OUTCOMES = 30  # fewer (or all won, or all lost) say little about the curve's slope


class CalibrationError(Exception):
    """The trail does not hold enough outcomes to fit; the message says what it holds."""


@dataclass(frozen=True, slots=True)
class Calibration:
    a: float
    b: float
    quotes: int
    won: int


@dataclass(frozen=True, slots=True)
class QuoteOutcome:
    """One one-way quote with a known outcome, and what the trail says of its RFQ (empty where
    the trail holds no `rfq` record for it): what a fit by segment needs. `mid` and
    `energy_mwh` are the decision's (None where the intent does not hold them)."""

    edge: float
    won: bool
    rfq: Mapping[str, Any]
    at: str
    mid: float | None = None
    energy_mwh: float | None = None


def quote_outcomes(records: Iterable[Mapping[str, Any]]) -> list[tuple[float, bool]]:
    """(edge EUR/MWh, won) of every one-way quote whose outcome the records hold."""
    return [(q.edge, q.won) for q in quote_observations(records)]


def quote_observations(records: Iterable[Mapping[str, Any]]) -> list[QuoteOutcome]:
    """Every one-way quote whose outcome the records hold, with its RFQ's record; a record the
    codec refuses is a CalibrationError naming it."""
    try:
        return _observations(events.read(records))
    except events.EventError as error:
        raise CalibrationError(str(error)) from None


def _observations(trail: Iterable[events.Logged]) -> list[QuoteOutcome]:
    sent: dict[str, tuple[float, events.QuoteIntent, str]] = {}  # RFQ id -> its latest quote
    rfqs: dict[str, Mapping[str, Any]] = {}
    found: list[QuoteOutcome] = []
    for logged in trail:
        match logged.event:
            case events.RfqSeen(rfq=rfq):
                rfqs[rfq.id] = dump_fields(rfq)
            case events.QuoteIntent(rfq_id=rfq_id) as intent:
                edge = _edge(intent)
                if edge is None:
                    sent.pop(rfq_id, None)
                else:
                    sent[rfq_id] = (edge, intent, logged.at)
            case events.Outcome(rfq_id=rfq_id, my_quote_status=status) if rfq_id in sent:
                if status in (MyQuoteStatus.WON, MyQuoteStatus.LOST):
                    edge, intent, at = sent.pop(rfq_id)
                    decision = intent.decision
                    found.append(
                        QuoteOutcome(
                            edge,
                            status == MyQuoteStatus.WON,
                            rfqs.pop(rfq_id, {}),
                            at,
                            decision.mid,
                            decision.energy_mwh,
                        )
                    )
    return found


def _edge(intent: events.QuoteIntent) -> float | None:
    side, mid, price = intent.decision.side, intent.decision.mid, intent.sent.price
    if side not in (Action.BUY, Action.SELL) or price is None:
        return None  # two-way
    return mid - price if side == Action.SELL else price - mid


def calibrate(records: Iterable[Mapping[str, Any]]) -> Calibration:
    pairs = quote_outcomes(records)
    won = sum(1 for _, w in pairs if w)
    if len(pairs) < MIN_OUTCOMES or won in (0, len(pairs)):
        raise CalibrationError(
            f"{len(pairs)} one-way quotes with a known outcome ({won} won): need at least "
            f"{MIN_OUTCOMES}, some won and some lost"
        )
    a, b = fit_logistic([e for e, _ in pairs], [w for _, w in pairs])
    return Calibration(a, b, len(pairs), won)
