"""Histogram bucket counts kept on the hot path: one bisect and two additions per observation,
no prometheus_client and no locks. The collector turns them into histograms at scrape time."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Seconds. Engine latencies are milliseconds; the venue's are tens to hundreds of them.
LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
# RFQ created to quote acknowledged: polling adds seconds; deadlines are minutes away.
RESPONSE_BOUNDS_S: tuple[float, ...] = (
    0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip


class BucketCounts:
    """Non-cumulative counts per bucket (`value <= bound`, the last one +Inf), sum and count."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: Sequence[float] = LATENCY_BOUNDS_S) -> None:
        if list(bounds) != sorted(set(bounds)) or not bounds:
            raise ValueError("histogram bounds must be non-empty, increasing and distinct")
        self.bounds = tuple(float(b) for b in bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, observations at or below it) per bucket, ending with +Inf: the exposition's form."""
        running = 0
        out: list[tuple[str, float]] = []
        for bound, n in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return out
