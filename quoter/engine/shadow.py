"""Shadow quoting, the pure part: how a shadow strategy's decision compares with the live one's,
the audit record of the comparison, and the report read back from the audit trail.

The engine evaluates the shadow on the live decision's own market snapshot and sends nothing;
this module only compares values, with no I/O: the report reads records given to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from quoter.audit import events
from quoter.strategies_api import Decline, QuoteDecision

Kind = Literal["same", "decision", "side", "price"]
PRICE_EPSILON = 1e-9  # prices are rounded to 3 decimals: anything bigger is a real difference


Outcome = QuoteDecision | Decline


@dataclass(frozen=True, slots=True)
class Comparison:
    """`kind`: the first way the two decisions differ, or "same"; `difference_eur_mwh`: shadow
    minus live, the largest in absolute value over the prices, when both quote the same way."""

    kind: Kind
    difference_eur_mwh: float | None

    @property
    def differs(self) -> bool:
        return self.kind != "same"


def summary(outcome: Outcome) -> events.OutcomeSummary:
    """A decision in brief: quote with its side and prices, or decline with its reason."""
    if isinstance(outcome, QuoteDecision):
        side = outcome.side
        return events.OutcomeSummary(
            decision="quote",
            side=None if side is None else str(side),
            price=outcome.price,
            bid=outcome.bid,
            ask=outcome.ask,
        )
    return events.OutcomeSummary(
        decision="decline", reason=str(outcome.reason), detail=outcome.detail
    )


def compare(live: Outcome, shadow: Outcome) -> Comparison:
    live_quotes, shadow_quotes = isinstance(live, QuoteDecision), isinstance(shadow, QuoteDecision)
    if not (live_quotes and shadow_quotes):
        return Comparison("same" if live_quotes == shadow_quotes else "decision", None)
    assert isinstance(live, QuoteDecision)
    assert isinstance(shadow, QuoteDecision)
    live_prices, shadow_prices = live.prices(), shadow.prices()
    if live.side != shadow.side or len(live_prices) != len(shadow_prices):
        return Comparison("side", None)
    differences = [s - v for v, s in zip(live_prices, shadow_prices, strict=True)]
    largest = max(differences, key=abs)
    return Comparison("price" if abs(largest) > PRICE_EPSILON else "same", largest)


def shadow_record(
    rfq_id: str,
    live_strategy: str,
    shadow_strategy: Mapping[str, object],
    live: Outcome,
    shadow: Outcome,
    comparison: Comparison,
) -> events.ShadowPriced:
    mine = summary(shadow)
    return events.ShadowPriced(
        rfq_id=rfq_id,
        strategy=str(shadow_strategy["name"]),
        params=cast(Mapping[str, object], shadow_strategy["params"]),
        live_strategy=live_strategy,
        decision=mine.decision,
        side=mine.side,
        price=mine.price,
        bid=mine.bid,
        ask=mine.ask,
        reason=mine.reason,
        detail=mine.detail,
        live=summary(live),
        differs=comparison.kind,
        difference_eur_mwh=comparison.difference_eur_mwh,
    )


@dataclass
class _Rfq:
    shadow: events.ShadowPriced | None = None  # the last shadow decision
    sent: list[float] | None = None  # the prices of our last quote sent
    sent_side: str | None = None
    status: str | None = None  # my-quote-status at the close
    fill_side: str | None = None


def report(records: Iterable[Mapping[str, Any]]) -> dict[str, object]:
    """Live against shadow over a trail: how often and how they differ, and, where the venue's
    outcome bounds the winning price, whether the shadow would have won.

    The venue tells a loser nothing of the winning price, and a winner only that it beat the
    rest. So, for a one-way RFQ where we sell: won at P means the best rival asked more than P,
    so a shadow asking at most P would have won too; lost at P means a rival asked less than P,
    so a shadow asking at least P would have lost too; anything else is unknown (and mirrored
    when we buy). Two-way: won on a side compares that side; lost is a loss for a shadow whose
    bid and ask are both no better than ours. A shadow that declined would not have won.
    A record the codec refuses raises its EventError (a ValueError) naming it."""
    per_rfq: dict[str, _Rfq] = defaultdict(_Rfq)
    decisions = 0
    kinds: dict[str, int] = {"same": 0, "decision": 0, "side": 0, "price": 0}
    abs_differences: list[float] = []
    for record in records:
        match events.decode(record):
            case events.ShadowPriced() as shadow:
                decisions += 1
                kinds[shadow.differs] = kinds.get(shadow.differs, 0) + 1
                if shadow.difference_eur_mwh is not None:
                    abs_differences.append(abs(shadow.difference_eur_mwh))
                per_rfq[shadow.rfq_id].shadow = shadow
            case events.QuoteIntent(rfq_id=rfq_id, decision=decision):
                prices = [p for p in (decision.price, decision.bid, decision.ask) if p is not None]
                per_rfq[rfq_id].sent = prices
                per_rfq[rfq_id].sent_side = decision.side
            case events.Outcome(rfq_id=rfq_id, my_quote_status=status):
                per_rfq[rfq_id].status = status
            case events.Filled(rfq_id=rfq_id, side=side):
                per_rfq[rfq_id].fill_side = side
    verdicts = {"would-win": 0, "would-lose": 0, "unknown": 0}
    known = 0
    for entry in per_rfq.values():
        if entry.shadow is None or entry.status not in ("won", "lost") or entry.sent is None:
            continue
        known += 1
        verdicts[_would_win(entry)] += 1
    differing = decisions - kinds["same"]
    return {
        "decisions": decisions,
        "differ": differing,
        "differ-rate": differing / decisions if decisions else None,
        "by-kind": kinds,
        "price-differences": len(abs_differences),
        "mean-abs-difference-eur-mwh": (
            sum(abs_differences) / len(abs_differences) if abs_differences else None
        ),
        "max-abs-difference-eur-mwh": max(abs_differences, default=None),
        "outcomes-known": known,
        "shadow-at-venue-prices": verdicts,
    }


def _would_win(entry: _Rfq) -> str:
    shadow, sent = entry.shadow, entry.sent
    assert shadow is not None
    assert sent is not None
    if shadow.decision != "quote":
        return "would-lose"
    won = entry.status == "won"
    if len(sent) == 1:
        ours, theirs = sent[0], _price(shadow.price)
        selling = entry.sent_side == "sell"
        if won:
            return "would-win" if _no_worse(theirs, ours, selling) else "unknown"
        return "would-lose" if _no_worse(ours, theirs, selling) else "unknown"
    bid, ask = sent
    shadow_bid, shadow_ask = _price(shadow.bid), _price(shadow.ask)
    if won and entry.fill_side == "sell":  # we sold at our ask
        return "would-win" if shadow_ask <= ask else "unknown"
    if won and entry.fill_side == "buy":  # we bought at our bid
        return "would-win" if shadow_bid >= bid else "unknown"
    if not won and shadow_bid <= bid and shadow_ask >= ask:
        return "would-lose"
    return "unknown"


def _price(value: float | events.Absent | None) -> float:
    """A shadow quote's price where our quote had one; float(None) failed here before too."""
    if not isinstance(value, int | float):
        raise events.EventError(f"shadow record: a quote without the price compared: {value!r}")
    return float(value)


def _no_worse(price: float, than: float, selling: bool) -> bool:
    """`price` is at least as good for the requester as `than`: lower when we sell."""
    return price <= than if selling else price >= than


def render_report(found: Mapping[str, object]) -> str:
    def number(value: object) -> str:
        return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    kinds = found["by-kind"]
    verdicts = found["shadow-at-venue-prices"]
    assert isinstance(kinds, Mapping)
    assert isinstance(verdicts, Mapping)
    rate = found["differ-rate"]
    return "\n".join(
        [
            f"shadow decisions  {found['decisions']}",
            f"differ from live  {found['differ']}"
            + ("" if not isinstance(rate, float) else f" ({rate:.0%})")
            + f": quote vs decline {kinds['decision']}, side {kinds['side']},"
            f" price {kinds['price']}",
            f"price difference  mean {number(found['mean-abs-difference-eur-mwh'])}"
            f"  max {number(found['max-abs-difference-eur-mwh'])} EUR/MWh"
            f" over {found['price-differences']} both-quoted",
            f"outcome known     {found['outcomes-known']}: shadow would have won"
            f" {verdicts['would-win']}, lost {verdicts['would-lose']},"
            f" unknown {verdicts['unknown']} (at the venue's winning prices, as far as known)",
        ]
    )
