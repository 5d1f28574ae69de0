"""Results of a replay as tables: decisions, fills marked to the curve at the trade and at later
curve dates, inventory per delivery bucket, and a one-row summary per run.

P&L of a fill, per MWh: (price - mid) when we sell, (mid - price) when we buy; `spread` is that
figure at the trade (the mid is the curve's price of the delivery on the trade's day), `pnl_+Nd`
marks the same delivery on the curves N days later (`DailyCurves.at_day`).
"""

from __future__ import annotations

import json

import pandas as pd

from quoter.backtest.curves import DailyCurves, StaticCurves, local_day
from quoter.backtest.driver import DecisionRow, Replayed
from quoter.backtest.tape_columns import instant
from quoter.domain import Action
from quoter.pricing.delivery import Delivery, instrument_delivery
from quoter.pricing.valuation import price_delivery
from quoter.risk.checks import REASON_CODES

MARK_DAYS = (1, 5)


DECISION_COLUMNS = ["run", *DecisionRow._fields]


def decisions_frame(run: Replayed) -> pd.DataFrame:
    frame = pd.DataFrame(run.audit.decisions, columns=list(DecisionRow._fields))
    frame.insert(0, "run", run.spec.label)
    return frame[DECISION_COLUMNS]


def fills_frame(run: Replayed, curves: StaticCurves | DailyCurves) -> pd.DataFrame:
    rows = []
    for trade in run.venue.market.trades:
        delivery = instrument_delivery(trade.instrument, trade.quantity_mw, None)
        if not isinstance(delivery, Delivery):
            continue
        sign = 1.0 if trade.action is Action.SELL else -1.0
        row: dict[str, object] = {
            "run": run.spec.label,
            "traded_at": trade.traded_at,
            "rfq_id": trade.rfq_id,
            "side": trade.action.value,
            "price": trade.price.value,
            "energy_mwh": delivery.energy_mwh,
        }
        for days in (0, *MARK_DAYS):
            mid = price_delivery(delivery, curves.at_day(local_day(trade.traded_at, days)))
            value = float("nan") if not isinstance(mid, float) else mid
            name = "mid" if days == 0 else f"mid_+{days}d"
            row[name] = value
            per_mwh = sign * (trade.price.value - value)
            row["spread" if days == 0 else f"pnl_+{days}d"] = per_mwh * delivery.energy_mwh
        row["spread_eur_mwh"] = sign * (trade.price.value - float(row["mid"]))  # type: ignore[arg-type]
        rows.append(row)
    return pd.DataFrame(rows)


def inventory_frame(run: Replayed) -> pd.DataFrame:
    """The position per delivery bucket after each fill (MWh, + long)."""
    rows = []
    position: dict[tuple[str, str, str], float] = {}
    for trade in run.venue.market.trades:
        delivery = instrument_delivery(trade.instrument, trade.quantity_mw, None)
        if not isinstance(delivery, Delivery):
            continue
        sign = 1.0 if trade.action is Action.BUY else -1.0
        for bucket, mwh in delivery.buckets():
            key = (bucket.commodity.value, bucket.market_area, bucket.month)
            position[key] = position.get(key, 0.0) + sign * mwh
            rows.append(
                {
                    "run": run.spec.label,
                    "at": trade.traded_at,
                    "commodity": key[0],
                    "market_area": key[1],
                    "month": key[2],
                    "position_mwh": position[key],
                }
            )
    return pd.DataFrame(rows)


def rfq_outcomes(run: Replayed, decisions: pd.DataFrame) -> dict[str, int]:
    """Every RFQ of the tape by what happened to it, so that the counts add up to the tape's:
    quoted; declined (never quoted), by the reason of its last decline; or never seen, as the
    engine does not poll while every allowed area is closed (`outside_hours`: closed from its
    arrival to its deadline) and an RFQ can end or be withdrawn between two polls (`not_seen`)."""
    tape = run.venue.market.tape
    quoted = set(decisions.loc[decisions.action == "quote", "rfq_id"])
    declines = decisions[(decisions.action == "decline") & ~decisions.rfq_id.isin(quoted)]
    last = declines.drop_duplicates("rfq_id", keep="last")
    counts: dict[str, int] = {"quoted": len(quoted), "declined": len(last)}
    reasons = last.reason.fillna("unknown").value_counts()
    counts.update({f"declined:{r}": int(n) for r, n in sorted(reasons.items())})
    seen = quoted | set(last.rfq_id)
    closed = 0
    unseen = [i for i, rfq_id in enumerate(tape.columns.ids) if rfq_id not in seen]
    areas = run.deps.risk.allowed_areas
    for index in unseen:
        arrived = tape.arrival(index)
        deadline = instant(int(tape.columns.deadline_ms[index]))
        closed += run.deps.calendar.next_open(areas, arrived) >= deadline
    counts["outside_hours"] = closed
    counts["not_seen"] = len(unseen) - closed
    return counts


def summary_row(run: Replayed, decisions: pd.DataFrame, fills: pd.DataFrame) -> dict[str, object]:
    rfqs = len(run.venue.market.tape)
    outcomes = rfq_outcomes(run, decisions)
    quoted = outcomes["quoted"]
    declines = decisions[decisions.action == "decline"]
    reasons = declines.reason.value_counts().to_dict()
    energy = float(fills.energy_mwh.sum()) if len(fills) else 0.0
    row: dict[str, object] = {
        "run": run.spec.label,
        "strategy": run.spec.strategy,
        "params": json.dumps(dict(run.spec.params), sort_keys=True, default=str),
        "rfqs": rfqs,
        "quoted": quoted,
        "declined": outcomes["declined"],
        "outside_hours": outcomes["outside_hours"],
        "not_seen": outcomes["not_seen"],
        "fills": len(fills),
        "hit_ratio": len(fills) / quoted if quoted else float("nan"),
        "energy_mwh": energy,
        "spread_eur_mwh": float(fills.spread.sum()) / energy if energy else float("nan"),
        "pnl_at_trade": float(fills.spread.sum()) if len(fills) else 0.0,
        "limit_hits": int(sum(n for r, n in reasons.items() if r in REASON_CODES)),
        "declines": len(declines),
        "kills": run.desk.stats.kills,
        "killed_by": "; ".join(
            f"{k.at.isoformat(timespec='seconds')} {k.reason}" for k in run.deps.killswitch.kills
        ),
    }
    for days in MARK_DAYS:
        column = f"pnl_+{days}d"
        row[column] = float(fills[column].sum()) if len(fills) else 0.0
    # Two counts by reason, beside their totals: `declines:R` counts the decline decisions (an
    # RFQ declined at each requote counts each time), `declined:R` the RFQs never quoted whose
    # last decline was R (they add up to `declined`, and with the other outcomes to `rfqs`).
    row.update({f"declines:{r}": int(n) for r, n in sorted(reasons.items())})
    row.update({k: n for k, n in outcomes.items() if k.startswith("declined:")})
    return row


def tables(run: Replayed, curves: StaticCurves | DailyCurves) -> dict[str, pd.DataFrame]:
    decisions = decisions_frame(run)
    fills = fills_frame(run, curves)
    return {
        "decisions": decisions,
        "fills": fills,
        "inventory": inventory_frame(run),
        "summary": pd.DataFrame([summary_row(run, decisions, fills)]),
    }


def concat(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    names = parts[0].keys() if parts else ()
    return {n: pd.concat([p[n] for p in parts], ignore_index=True) for n in names}
