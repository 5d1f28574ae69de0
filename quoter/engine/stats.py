"""What the engine has done, counted: for the live status view, the summary and metrics."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

LATENCY_SAMPLES = 10_000


@dataclass(slots=True)
class EngineStats:
    rfqs_seen: int = 0
    rfqs_malformed: int = 0
    quotes_sent: int = 0
    requotes_sent: int = 0
    quotes_refused: int = 0
    outcomes_unknown: int = 0
    won: int = 0
    lost: int = 0
    expired: int = 0
    withdrawn: int = 0
    withdraw_failures: int = 0
    shed: int = 0
    declined: Counter[str] = field(default_factory=Counter)
    venue_errors: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    seen_to_sent_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    pricing_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    @property
    def fill_rate(self) -> float | None:
        decided = self.won + self.lost
        return self.won / decided if decided else None

    @staticmethod
    def percentile_ms(samples: deque[float], q: float) -> float | None:
        if not samples:
            return None
        return float(np.percentile(np.fromiter(samples, float), q)) * 1000.0
