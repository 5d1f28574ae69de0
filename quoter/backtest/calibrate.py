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

from quoter.backtest.fills import fit_logistic

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
    """Every one-way quote whose outcome the records hold, with its RFQ's record."""
    sent: dict[str, tuple[float, str, Mapping[str, Any]]] = {}  # RFQ id -> its latest quote
    rfqs: dict[str, Mapping[str, Any]] = {}
    found: list[QuoteOutcome] = []
    for record in records:
        kind, rfq_id = record.get("kind"), record.get("rfq-id")
        if kind == "rfq" and isinstance(record.get("rfq"), Mapping):
            rfqs[str(record["rfq"].get("id"))] = record["rfq"]
        if not isinstance(rfq_id, str):
            continue
        if kind == "quote-intent":
            edge = _edge(record)
            if edge is None:
                sent.pop(rfq_id, None)
            else:
                sent[rfq_id] = (edge, str(record.get("at", "")), record["decision"])
        elif kind == "outcome" and rfq_id in sent:
            status = record.get("my-quote-status")
            if status in ("won", "lost"):
                edge, at, decision = sent.pop(rfq_id)
                found.append(
                    QuoteOutcome(
                        edge,
                        status == "won",
                        rfqs.pop(rfq_id, {}),
                        at,
                        _number(decision.get("mid")),
                        _number(decision.get("energy-mwh")),
                    )
                )
    return found


def _edge(intent: Mapping[str, Any]) -> float | None:
    decision, prices = intent.get("decision"), intent.get("sent")
    if not isinstance(decision, Mapping) or not isinstance(prices, Mapping):
        return None
    side, mid, price = (
        decision.get("side"),
        _number(decision.get("mid")),
        _number(prices.get("price")),
    )
    if side not in ("buy", "sell") or mid is None or price is None:
        return None  # two-way, or not a record this reader knows
    return mid - price if side == "sell" else price - mid


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


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
