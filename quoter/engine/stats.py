"""What the engine has done, counted: for the live status view, the summary and metrics."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from quoter.basics.histogram import LATENCY_BOUNDS_S, RESPONSE_BOUNDS_S, BucketCounts

LATENCY_SAMPLES = 10_000
# EUR/MWh: how far the shadow strategy's price is from the live one's.
PRICE_DIFFERENCE_BOUNDS: tuple[float, ...] = (
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0,
)  # fmt: skip


class RecentShare:
    """The share of True among the last `size` outcomes, in O(1) an outcome."""

    def __init__(self, size: int) -> None:
        self._recent: deque[bool] = deque(maxlen=size)
        self._size = size
        self._n = 0  # outcomes in the window: counted, not asked of the deque twice an outcome
        self._true = 0

    def __len__(self) -> int:
        return self._n

    def add(self, outcome: bool) -> float:
        """Count `outcome`; the share of True in the window now."""
        recent = self._recent
        n = self._n
        if n == self._size:
            self._true -= recent[0]  # about to leave the window
        else:
            n = self._n = n + 1
        recent.append(outcome)
        self._true += outcome
        return self._true / n


class Samples(deque[float]):
    """The recent samples (for the status view's percentiles) and, for metrics, histogram
    counts over every sample of the run. Appending costs one bisect more than a deque."""

    def __init__(
        self, bounds: Sequence[float] = LATENCY_BOUNDS_S, maxlen: int = LATENCY_SAMPLES
    ) -> None:
        super().__init__(maxlen=maxlen)
        self.histogram = BucketCounts(bounds)

    def append(self, value: float) -> None:
        super().append(value)
        self.histogram.observe(value)


@dataclass(slots=True)
class EngineStats:
    rfqs_seen: int = 0
    rfqs_malformed: int = 0
    rfqs_reopened: int = 0  # listed open after the venue had listed them ended: refused
    quotes_sent: int = 0
    requotes_sent: int = 0
    quotes_refused: int = 0
    outcomes_unknown: int = 0
    # What reading our quotes found of those: live, ended (not active), not-found (given up
    # past valid-until). Never counted as sent: no answer acknowledged them.
    unknown_resolved: Counter[str] = field(
        default_factory=lambda: Counter({"live": 0, "ended": 0, "not-found": 0})
    )
    won: int = 0
    lost: int = 0
    expired: int = 0
    withdrawn: int = 0
    orphans_withdrawn: int = 0  # live at the venue, not in the book: found by a sweep
    withdraw_failures: int = 0
    shed: int = 0
    declined: Counter[str] = field(default_factory=Counter)
    venue_errors: Counter[str] = field(default_factory=Counter)
    # Venue answers refused whole (not JSON, a field wrong), by endpoint, and the last one said.
    bad_answers: Counter[str] = field(default_factory=Counter)
    bad_answer_last: str | None = None
    kills: int = 0
    conditions_seen: set[str] = field(default_factory=set)  # for the metric: 0, not gone
    # How far our clock is ahead of the venue's (negative: behind), at least, by its answers.
    clock_offset_s: float | None = None
    seen_to_sent_s: Samples = field(default_factory=Samples)
    pricing_s: Samples = field(default_factory=Samples)
    # RFQ created at the venue to our quote acknowledged; by the venue's clock and ours.
    created_to_ack_s: Samples = field(default_factory=lambda: Samples(RESPONSE_BOUNDS_S))
    # The shadow strategy: its decisions (quote, decline) and how they compare with the live
    # strategy's (same, decision, side, price); the absolute price difference when both quote.
    shadow_decisions: Counter[str] = field(default_factory=Counter)
    shadow_comparisons: Counter[str] = field(default_factory=Counter)
    shadow_difference_eur_mwh: Samples = field(
        default_factory=lambda: Samples(PRICE_DIFFERENCE_BOUNDS)
    )
    strategy_swaps: Counter[str] = field(default_factory=Counter)  # done, refused
    admin_refused: Counter[str] = field(default_factory=Counter)  # host, unauthorised
    curve_refusals: Counter[str] = field(default_factory=Counter)  # by RefusalReason
    # Fills the trade file could not take (damaged, unwritable), and the last reason why.
    trade_capture_failures: int = 0
    trade_capture_problem: str | None = None

    @property
    def fill_rate(self) -> float | None:
        decided = self.won + self.lost
        return self.won / decided if decided else None

    @staticmethod
    def percentile_ms(samples: deque[float], q: float) -> float | None:
        if not samples:
            return None
        return float(np.percentile(np.fromiter(samples, float), q)) * 1000.0
