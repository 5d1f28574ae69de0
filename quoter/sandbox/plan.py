"""The usage plan of one API key: a token bucket on the sandbox's monotonic clock and a daily
quota that resets at 00:00 UTC. Pure: callers pass the times in.

Every request that names a known key is counted against the day's quota, whatever its fate:
`/authenticate`, failed requests and the 429s themselves ("every request is counted").
A request refused for the quota takes no bucket token; one refused by the bucket took none, and
is told in its Retry-After when one is back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum


class Verdict(Enum):
    ADMITTED = "admitted"
    TOO_MANY_REQUESTS = "Too Many Requests"
    LIMIT_EXCEEDED = "Limit Exceeded"


class TokenBucket:
    """`burst` tokens, refilled at `rate_per_s`; a request takes one or is refused."""

    def __init__(self, rate_per_s: float, burst: int, now_s: float) -> None:
        if rate_per_s <= 0 or burst <= 0:
            raise ValueError("a token bucket needs a positive rate and burst")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._last_s = now_s

    def _refill(self, now_s: float) -> None:
        if now_s > self._last_s:
            elapsed = now_s - self._last_s
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)
            self._last_s = now_s

    def take(self, now_s: float) -> bool:
        self._refill(now_s)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def tokens(self, now_s: float) -> float:
        self._refill(now_s)
        return self._tokens

    def retry_after_s(self, now_s: float) -> int:
        """Whole seconds until a token is back, at least 1: an empty bucket's Retry-After."""
        missing = 1.0 - self.tokens(now_s)
        return max(1, math.ceil(missing / self.rate_per_s))

    def reshape(self, rate_per_s: float, burst: int, now_s: float) -> None:
        """New limits, and a full bucket: a changed plan starts afresh."""
        self._refill(now_s)
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)


@dataclass(slots=True)
class DailyQuota:
    limit: int
    day: date | None = None
    spent: int = 0

    def count(self, now: datetime) -> bool:
        """Count one request; True while the day's quota was not already spent."""
        self.roll(now)
        within = self.spent < self.limit
        self.spent += 1
        return within

    def roll(self, now: datetime) -> None:
        today = now.astimezone(UTC).date()
        if today != self.day:
            self.day, self.spent = today, 0


class UsagePlan:
    def __init__(self, rate_per_s: float, burst: int, daily_quota: int, now_s: float) -> None:
        self.bucket = TokenBucket(rate_per_s, burst, now_s)
        self.quota = DailyQuota(daily_quota)

    def admit(self, now_s: float, now: datetime) -> Verdict:
        if not self.quota.count(now):
            return Verdict.LIMIT_EXCEEDED
        if not self.bucket.take(now_s):
            return Verdict.TOO_MANY_REQUESTS
        return Verdict.ADMITTED

    def spent_today(self, now: datetime) -> int:
        self.quota.roll(now)
        return self.quota.spent

    def change(self, now_s: float, rate_per_s: float, burst: int, daily_quota: int) -> None:
        self.bucket.reshape(rate_per_s, burst, now_s)
        self.quota.limit = daily_quota
