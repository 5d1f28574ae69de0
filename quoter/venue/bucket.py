"""Pure usage-plan arithmetic: a token bucket with per-lane floors, and per-lane daily allowances.

No clock, no I/O: every function takes the time `t_s` (monotonic seconds) it is asked about, so the
guarantees can be property-tested. The async waiting lives in `guard.py`.

Rate guarantee (the sliding-window definition the tests check): a bucket of capacity C refilling at
r tokens/s, starting at most full, lets through at most C + r * w takes in ANY closed time window
[t, t + w]; so at most C at one instant and C + r in any one second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from quoter.basics.usage import Lane

# Float slack (in tokens) when comparing levels: a wait of (need - level) / rate lands on the
# boundary, and monotonic times near 1e6 s carry rounding of ~1e-10 s.
EPSILON = 1e-6
# The lanes as module constants: `Lane.SUBMIT` is a class attribute look-up each time, and the
# guard asks for a floor and an allowance on every request.
_WITHDRAW, _SUBMIT = Lane.WITHDRAW, Lane.SUBMIT


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """Our bucket, set below the venue's: `rate_per_s`, `capacity`, and the tokens each lane must
    leave for the lanes above it."""

    rate_per_s: float
    capacity: int
    withdraw_reserve: int
    submit_reserve: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise ValueError(f"bucket rate must be positive, got {self.rate_per_s}")
        if self.withdraw_reserve < 0 or self.submit_reserve < 0:
            raise ValueError("bucket reserves cannot be negative")
        if self.withdraw_reserve + self.submit_reserve >= self.capacity:
            raise ValueError("bucket reserves leave nothing for polling")

    def floor(self, lane: Lane) -> int:
        """Tokens a take in `lane` must leave in the bucket."""
        if lane is _WITHDRAW:
            return 0
        if lane is _SUBMIT:
            return self.withdraw_reserve
        return self.withdraw_reserve + self.submit_reserve


@dataclass(frozen=True, slots=True)
class Bucket:
    """The bucket's `level` as of monotonic time `at_s`."""

    level: float
    at_s: float


def full(plan: BucketPlan, t_s: float) -> Bucket:
    return Bucket(level=float(plan.capacity), at_s=t_s)


def level_at(plan: BucketPlan, bucket: Bucket, t_s: float) -> float:
    """The level at `t_s`; time never runs backwards for the bucket. (The `max` and `min` of
    the definition spelled as comparisons, which is what they do on two floats, without the
    calls: this runs on every request.)"""
    elapsed_s = t_s - bucket.at_s
    level = bucket.level + (elapsed_s if elapsed_s > 0.0 else 0.0) * plan.rate_per_s
    return level if level < plan.capacity else float(plan.capacity)


def can_take(plan: BucketPlan, bucket: Bucket, lane: Lane, n: int, t_s: float) -> bool:
    return level_at(plan, bucket, t_s) - n >= plan.floor(lane) - EPSILON


def try_take(plan: BucketPlan, bucket: Bucket, lane: Lane, n: int, t_s: float) -> Bucket | None:
    """The bucket after `lane` takes `n` tokens at `t_s`, or None if it may not now: `can_take`
    and `take` in one, the level worked out once (the guard asks on every request)."""
    level = level_at(plan, bucket, t_s)
    if level - n < plan.floor(lane) - EPSILON:
        return None
    left = level - n
    return Bucket(left if left > 0.0 else 0.0, bucket.at_s if bucket.at_s > t_s else t_s)


def take(plan: BucketPlan, bucket: Bucket, lane: Lane, n: int, t_s: float) -> Bucket:
    """The bucket after `lane` takes `n` tokens at `t_s`; ValueError if it may not."""
    after = try_take(plan, bucket, lane, n, t_s)
    if after is None:
        raise ValueError(f"lane {lane.name} cannot take {n} token(s) now")
    return after


def wait_s(plan: BucketPlan, bucket: Bucket, lane: Lane, n: int, t_s: float) -> float:
    """Seconds from `t_s` until `lane` can take `n` tokens (0 if now, inf if never)."""
    need = plan.floor(lane) + n
    if need > plan.capacity:
        return math.inf
    level = level_at(plan, bucket, t_s)
    if level - need >= -EPSILON:  # exactly `can_take`
        return 0.0
    # Aim half-way into the tolerance: float noise cannot make the wait too short, and the
    # wait is never so small that adding it to the clock changes nothing.
    missing = need - EPSILON / 2 - level
    return max(0.0, bucket.at_s - t_s) + missing / plan.rate_per_s


def emptied(bucket: Bucket, t_s: float, hold_s: float = 0.0) -> Bucket:
    """The bucket after the venue said its own is empty (429 Too Many Requests), refilling
    only from `hold_s` after `t_s` (its Retry-After): no lane takes a token before then."""
    return replace(bucket, level=0.0, at_s=max(t_s + hold_s, bucket.at_s))


@dataclass(frozen=True, slots=True)
class DailyPlan:
    """The day's quota and the parts of it kept for the lanes above polling."""

    quota: int
    withdraw_reserve: int
    submit_reserve: int

    def allowance(self, lane: Lane) -> int:
        """Requests `lane` may have been spent in total today before it must stop."""
        if lane is _WITHDRAW:
            return self.quota
        if lane is _SUBMIT:
            return self.quota - self.withdraw_reserve
        return self.quota - self.withdraw_reserve - self.submit_reserve


def daily_left(plan: DailyPlan, spent: int, exhausted: bool, lane: Lane) -> int:
    """Requests `lane` may still send today; 0 once the venue said the day is spent."""
    if exhausted:
        return 0
    left = plan.allowance(lane) - spent
    return left if left > 0 else 0
