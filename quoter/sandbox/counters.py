"""What the sandbox counts about the public requests it served, for tests and benchmarks."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_REQUEST_TIMES = 10_000


@dataclass(slots=True)
class Counters:
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    quota_exceeded: int = 0
    forbidden: int = 0
    authentications: int = 0
    request_times: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_REQUEST_TIMES))

    def arrive(self, now_s: float) -> None:
        self.requests += 1
        self.request_times.append(now_s)

    def answered(self, route: str, status: int) -> None:
        self.by_route[route] += 1
        self.by_status[str(status)] += 1


def max_in_window(times: Iterable[float], window_s: float = 1.0) -> int:
    """The most arrivals in any half-open window [t, t + window_s) of the given times."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - window_s:
            first += 1
        best = max(best, last - first + 1)
    return best
