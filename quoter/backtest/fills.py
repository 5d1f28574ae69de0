"""Fill models: does the requester take our quote at the deadline?

- `AuctionFill`: the requester takes the best price. We win when strictly better than the best
  competing price (`competitor_price`; a tie goes to the competitor, as in the sandbox), or when
  there is no competitor. `requester_limit` is a hard bound in every model: a price worse than
  the requester's limit never fills.
- `LogisticFill`: P(win) = 1 / (1 + exp(-(a + b * edge))), with edge our price advantage in
  EUR/MWh over the reference (`reference_price`, else `competitor_price`; none: edge 0): for a
  requester who buys, reference - our ask; who sells, our bid - reference. The draw is seeded by
  (seed, RFQ id), so it does not depend on the order RFQs settle in.

`fit_logistic` calibrates (a, b) by maximum likelihood (Newton's method on the log-likelihood)
from observed (edge, won) pairs: a venue export of our quotes with their outcomes, or the
outcomes of an auction replay. `DEFAULT_LOGISTIC` was fitted that way on the auction outcomes
of a two-day synthetic tape (`quoter backtest make-tape --days 2`, seed 7) replayed with
curve_spread at its defaults and with credit_default_eur_mwh=0.5: 3,404 one-way quotes, 35%
won. Fit it again on the desk's own quotes before trusting it for real ones: `quoter backtest
calibrate --audit DIR` reads them from a live audit trail (`quoter.backtest.calibrate`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from quoter.backtest.tape import TapeRfq
from quoter.domain import Action


class FillModel(Protocol):
    def wins(self, entry: TapeRfq, ours: float) -> bool:
        """Whether the requester takes our price `ours` (on its side) at the deadline."""
        ...


def _better(ours: float, other: float, requester_side: Action) -> bool:
    return ours < other if requester_side is Action.BUY else ours > other


def within_limit(entry: TapeRfq, ours: float) -> bool:
    limit = entry.requester_limit
    if limit is None:
        return True
    return ours <= limit if entry.requester_side is Action.BUY else ours >= limit


def edge_eur_mwh(entry: TapeRfq, ours: float) -> float:
    """Our price advantage over the reference, positive when better for the requester."""
    reference = entry.reference_price
    if reference is None:
        reference = entry.competitor_price
    if reference is None:
        return 0.0
    return reference - ours if entry.requester_side is Action.BUY else ours - reference


@dataclass(frozen=True, slots=True)
class AuctionFill:
    def wins(self, entry: TapeRfq, ours: float) -> bool:
        competitor = entry.competitor_price
        beats = competitor is None or _better(ours, competitor, entry.requester_side)
        return beats and within_limit(entry, ours)


@dataclass(frozen=True, slots=True)
class LogisticFill:
    a: float
    b: float
    seed: int = 0

    def probability(self, edge: float) -> float:
        z = self.a + self.b * edge
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))

    def wins(self, entry: TapeRfq, ours: float) -> bool:
        if not within_limit(entry, ours):
            return False
        draw = random.Random(f"{self.seed}/{entry.id}").random()
        return draw < self.probability(edge_eur_mwh(entry, ours))


# Fitted by `fit_logistic` on auction outcomes of a synthetic tape (see the module docstring).
DEFAULT_LOGISTIC = (0.44, 2.11)


Prior = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
"""A Gaussian prior on (a, b): its mean and its precision matrix."""


def fit_logistic(
    edges: npt.ArrayLike,
    won: npt.ArrayLike,
    *,
    iterations: int = 50,
    prior: Prior | None = None,
    weights: npt.ArrayLike | None = None,
) -> tuple[float, float]:
    """(a, b) maximising the likelihood of `won` given `edges` (with a tiny ridge, so separable
    data still gives finite parameters); with a `prior`, the posterior's mode instead: a fit
    pulled toward the prior's mean as far as the precision weighs against the data. `weights`
    (>= 0, one per outcome; default all 1) count each outcome as that many observations."""
    x = np.asarray(edges, dtype=np.float64)
    y = np.asarray(won, dtype=np.float64)
    if x.size == 0 or x.shape != y.shape:
        raise ValueError("need as many outcomes as edges, at least one")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != x.shape or not bool(np.all(np.isfinite(w) & (w >= 0))) or not w.sum() > 0:
        raise ValueError("need one finite weight >= 0 per outcome, not all 0")
    design = np.column_stack([np.ones_like(x), x])
    centre, ridge = (np.zeros(2), 1e-6 * np.eye(2)) if prior is None else prior
    beta = centre.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -700, 700)))
        gradient = design.T @ (w * (y - p)) - ridge @ (beta - centre)
        hessian = design.T @ (design * (w * p * (1 - p))[:, None]) + ridge
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.abs(step).max()) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def fill_model(name: str, seed: int, params: tuple[float, float] | None = None) -> FillModel:
    if name == "auction":
        return AuctionFill()
    if name == "logistic":
        a, b = params or DEFAULT_LOGISTIC
        return LogisticFill(a, b, seed)
    raise ValueError(f"unknown fill model {name!r}: auction or logistic")
