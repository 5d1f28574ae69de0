"""Fitting the win curve by segment of the flow (commodity and area, tenor, size, one- or
two-way, counterparty group) from quotes whose outcome is known, into a `WinFit`.

Thin segments shrink toward the pooled fit: each segment's (a, b) is the mode of its posterior
under a Gaussian prior centred on the pooled (a, b), whose precision is `prior_weight` times the
pooled fit's Fisher information per observation. The prior weighs as much as `prior_weight`
quotes of the pooled flow would: a segment of 10 quotes under a weight of 50 stays near the
pool, one of 5,000 is its own. Quality is the mean log-loss of each segment's quotes under the
fit against a constant rate (the segment's own win rate), and a reliability diagram.

Markups are measured on our side, in EUR/MWh away from the mid (price - mid when we sell, mid -
price when we buy; on a two-way quote, the side the requester took): the logistic fill's edge
with its sign turned, so f(markup) = 1 / (1 + e^(a + b markup)) with b > 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from quoter.backtest.calibrate import MIN_OUTCOMES, CalibrationError, QuoteOutcome
from quoter.backtest.fills import fit_logistic
from quoter.backtest.tape import Tape
from quoter.domain import Action
from quoter.pricing.winfit import (
    MAX_ABS_A,
    SIZE_MW,
    TENOR_DAYS,
    SegmentFit,
    WinFit,
    counterparty_group,
    fit_id_of,
    segment_key,
    write_fit,
)

DEFAULT_PRIOR_WEIGHT = 50.0
MIN_GROUP_QUOTES = 200  # a counterparty with fewer quotes goes to the "other" group
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Quoted:
    """One quote with a known outcome and the features of its RFQ that segment it."""

    commodity: str
    area: str
    days_ahead: float
    quantity_mw: float
    two_way: bool
    requester: str
    markup_eur_mwh: float
    won: bool


def from_trail(outcomes: Iterable[QuoteOutcome]) -> list[Quoted]:
    """The audit trail's one-way quotes (`calibrate.quote_observations`) with their RFQ's
    features; a quote whose RFQ record is missing or incomplete is left out."""
    found = []
    for q in outcomes:
        r = q.rfq
        try:
            start = datetime.fromisoformat(str(r["start"]))
            at = datetime.fromisoformat(q.at)
            found.append(
                Quoted(
                    str(r["commodity"]),
                    str(r["market-area"]),
                    (start - at).total_seconds() / DAY_S,
                    float(r["quantity-mw"]),
                    False,
                    str(r["requester"]),
                    -q.edge,
                    q.won,
                )
            )
        except (KeyError, ValueError, TypeError):
            continue
    return found


def counterparty_groups(quoted: Sequence[Quoted], min_quotes: int) -> dict[str, str]:
    """Each counterparty with at least `min_quotes` quotes is a group of its own."""
    counts = Counter(q.requester for q in quoted)
    return {r: r for r, n in sorted(counts.items()) if n >= min_quotes}


def fit_segments(
    quoted: Sequence[Quoted],
    *,
    source: str,
    created_at: datetime,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    by_counterparty: bool = False,
    min_group_quotes: int = MIN_GROUP_QUOTES,
) -> WinFit:
    won = sum(q.won for q in quoted)
    if len(quoted) < MIN_OUTCOMES or won in (0, len(quoted)):
        raise CalibrationError(
            f"{len(quoted)} quotes with a known outcome ({won} won): need at least "
            f"{MIN_OUTCOMES}, some won and some lost"
        )
    groups = counterparty_groups(quoted, min_group_quotes) if by_counterparty else None
    keys = [key_of(q, groups) for q in quoted]
    markups = np.array([q.markup_eur_mwh for q in quoted])
    wins = np.array([q.won for q in quoted], dtype=np.float64)
    pooled, prior = _pooled(markups, wins, prior_weight)
    if not (pooled.b > 0 and abs(pooled.a) <= MAX_ABS_A):
        raise CalibrationError(
            f"pooled fit a={pooled.a:.4f} b={pooled.b:.4f}: the win rate does not fall as the "
            "markup grows, so no markup maximises the expected profit"
        )
    segments = {}
    for key in sorted(set(keys)):
        chosen = np.array([k == key for k in keys])
        fitted = _fit(markups[chosen], wins[chosen], prior)
        # A segment whose curve has no interior optimum even after shrinking quotes the pool's.
        if fitted.b > 0 and abs(fitted.a) <= MAX_ABS_A:
            segments[key] = fitted
    frozen = MappingProxyType(segments)
    return WinFit(
        fit_id=fit_id_of(pooled, frozen),
        created_at=created_at.isoformat(),
        source=source,
        prior_weight=prior_weight,
        pooled=pooled,
        segments=frozen,
        tenor_days=TENOR_DAYS,
        size_mw=SIZE_MW,
        counterparties=None if groups is None else MappingProxyType(groups),
    )


def key_of(q: Quoted, groups: Mapping[str, str] | None) -> str:
    group = counterparty_group(q.requester, groups)
    return segment_key(q.commodity, q.area, q.days_ahead, q.quantity_mw, q.two_way, group)


def _pooled(
    markups: npt.NDArray[np.float64], wins: npt.NDArray[np.float64], weight: float
) -> tuple[SegmentFit, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """The pooled fit and the prior it sets: its (a, b) in the logistic fill's edge convention
    and `weight` observations' worth of its Fisher information."""
    a_edge, b_edge = fit_logistic(-markups, wins)
    design = np.column_stack([np.ones_like(markups), -markups])
    p = 1.0 / (1.0 + np.exp(-np.clip(design @ np.array([a_edge, b_edge]), -700, 700)))
    information = design.T @ (design * (p * (1 - p))[:, None]) / markups.size
    prior = (np.array([a_edge, b_edge]), weight * information + 1e-9 * np.eye(2))
    return _segment(-a_edge, b_edge, markups, wins), prior


def _fit(
    markups: npt.NDArray[np.float64],
    wins: npt.NDArray[np.float64],
    prior: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
) -> SegmentFit:
    a_edge, b_edge = fit_logistic(-markups, wins, prior=prior)
    return _segment(-a_edge, b_edge, markups, wins)


def _segment(
    a: float, b: float, markups: npt.NDArray[np.float64], wins: npt.NDArray[np.float64]
) -> SegmentFit:
    p = 1.0 / (1.0 + np.exp(np.clip(a + b * markups, -700, 700)))
    rate = np.full_like(p, wins.mean())
    return SegmentFit(
        a, b, int(wins.size), int(wins.sum()), log_loss(p, wins), log_loss(rate, wins)
    )


def log_loss(p: npt.NDArray[np.float64], wins: npt.NDArray[np.float64]) -> float:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(wins * np.log(q) + (1 - wins) * np.log(1 - q)))


def predicted(fit: WinFit, quoted: Sequence[Quoted]) -> npt.NDArray[np.float64]:
    """Each quote's win probability under its segment's fit (the pooled one where unseen)."""
    return np.array(
        [
            fit.segment(key_of(q, fit.counterparties))[1].win_probability(q.markup_eur_mwh)
            for q in quoted
        ]
    )


def quality_lines(fit: WinFit) -> list[str]:
    """The fit's quality per segment and pooled, as the calibrate command prints it."""
    rows = [("pooled", fit.pooled), *sorted(fit.segments.items())]
    width = max(len(k) for k, _ in rows)
    lines = [f"{'segment':<{width}}  {'a':>8} {'b':>8} {'n':>6} {'wins':>6}  log-loss  baseline"]
    for key, s in rows:
        lines.append(
            f"{key:<{width}}  {s.a:8.3f} {s.b:8.3f} {s.n:6d} {s.wins:6d}  "
            f"{s.log_loss:8.4f}  {s.baseline_log_loss:8.4f}"
        )
    return lines


def write_reliability(
    fit: WinFit, quoted: Sequence[Quoted], path: Path, bins: int = 10
) -> list[tuple[float, float, int]]:
    """A reliability diagram (PNG): the quotes binned by predicted win probability, each bin's
    observed win rate against its mean prediction. Returns the bins (mean predicted, observed,
    quotes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = predicted(fit, quoted)
    wins = np.array([q.won for q in quoted], dtype=np.float64)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table = [
        (float(p[index == i].mean()), float(wins[index == i].mean()), int((index == i).sum()))
        for i in range(bins)
        if (index == i).any()
    ]
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    axes.plot([t[0] for t in table], [t[1] for t in table], marker="o", label="fit")
    axes.set_xlabel("predicted win probability")
    axes.set_ylabel("observed win rate")
    axes.set_title(f"win curve fit {fit.fit_id}: {len(quoted):,} quotes")
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return table


def finite(quoted: Iterable[Quoted]) -> list[Quoted]:
    return [q for q in quoted if math.isfinite(q.markup_eur_mwh) and math.isfinite(q.days_ahead)]


@dataclass(frozen=True, slots=True)
class Written:
    fit: WinFit
    reliability_png: Path
    lines: list[str]


def write_segment_fit(
    quoted: Sequence[Quoted],
    out: Path,
    *,
    source: str,
    created_at: datetime,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    by_counterparty: bool = False,
) -> Written:
    """Fit by segment, write the fit file to `out` and its reliability diagram beside it
    (`out` with `.png`); the lines say what was written and how good the fit is."""
    quoted = finite(quoted)
    fit = fit_segments(
        quoted,
        source=source,
        created_at=created_at,
        prior_weight=prior_weight,
        by_counterparty=by_counterparty,
    )
    write_fit(fit, out)
    png = out.with_suffix(".png")
    write_reliability(fit, quoted, png)
    lines = [
        *quality_lines(fit),
        f"fit {fit.fit_id}: {len(fit.segments)} segments, prior weight {prior_weight:g}",
        f"wrote {out} and its reliability diagram {png}",
        f"quote with: --strategy win_curve --param fit={out}",
    ]
    return Written(fit, png, lines)


def from_replay(decisions: pd.DataFrame, fills: pd.DataFrame, tape: Tape) -> list[Quoted]:
    """The quotes of replays of `tape` (their `decisions` and `fills` tables) whose outcome the
    desk would know: each RFQ's last quote per run, won if it filled, lost otherwise; an RFQ the
    requester cancelled before its deadline says nothing of the price and is left out. A
    two-way quote's markup is on the side the requester took (the tape says which)."""
    entries = {t.id: t for t in tape}
    won = set(zip(fills.run, fills.rfq_id, strict=True)) if len(fills) else set()
    quotes = decisions[decisions.action == "quote"].groupby(["run", "rfq_id"]).tail(1)
    found = []
    for row in quotes.to_dict("records"):
        entry = entries.get(str(row["rfq_id"]))
        if entry is None or (entry.cancel_at and entry.cancel_at < entry.rfq.quote_deadline):
            continue
        rfq, mid = entry.rfq, float(row["mid"])
        if row["side"] == "sell":
            markup = float(row["price"]) - mid
        elif row["side"] == "buy":
            markup = mid - float(row["price"])
        elif entry.requester_side is Action.BUY:
            markup = float(row["ask"]) - mid
        else:
            markup = mid - float(row["bid"])
        found.append(
            Quoted(
                rfq.instrument.commodity.value,
                rfq.instrument.market_area,
                (rfq.instrument.start - row["at"]).total_seconds() / DAY_S,
                rfq.quantity_mw,
                rfq.action is None,
                rfq.requester_id,
                markup,
                (row["run"], row["rfq_id"]) in won,
            )
        )
    return found
