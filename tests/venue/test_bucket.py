"""Properties of the pure usage-plan arithmetic, under any request pattern hypothesis can find."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.basics.usage import Lane
from quoter.venue import bucket as arith
from quoter.venue.bucket import Bucket, BucketPlan, DailyPlan

VENUE_RATE, VENUE_BURST = 10.0, 100
PLAN = BucketPlan(rate_per_s=9.0, capacity=90, withdraw_reserve=20, submit_reserve=10)

plans = st.builds(
    lambda rate, cap, w, s: BucketPlan(rate, cap, min(w, cap // 3), min(s, cap // 3)),
    st.floats(0.5, 50.0),
    st.integers(3, 200),
    st.integers(0, 60),
    st.integers(0, 60),
)
# One step: wait dt seconds, then either a lane tries to take a token or the venue says 429.
steps = st.lists(
    st.tuples(
        st.floats(0.0, 2.0) | st.just(0.0),
        st.sampled_from([*Lane, "429"]),
    ),
    max_size=300,
)


def simulate(
    plan: BucketPlan, pattern: list[tuple[float, Lane | str]]
) -> list[tuple[float, Lane, float]]:
    """Every take that the arithmetic allowed: (time, lane, level after). `try_take` (the guard's
    one call) must allow exactly what `can_take` does."""
    t, b = 0.0, arith.full(plan, 0.0)
    taken: list[tuple[float, Lane, float]] = []
    for dt, what in pattern:
        t += dt
        if isinstance(what, Lane):
            after = arith.try_take(plan, b, what, 1, t)  # what the guard asks, every request
            assert (after is not None) is arith.can_take(plan, b, what, 1, t)
            if after is not None:
                b = after
                taken.append((t, what, b.level))
        else:
            b = arith.emptied(b, t)
    return taken


def assert_within(times: list[float], capacity: float, rate: float) -> None:
    """Sliding windows: any closed window [t_i, t_j] holds at most capacity + rate * width."""
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= capacity + rate * (times[j] - times[i]) + 1e-3


@settings(max_examples=300, deadline=None)
@given(plan=plans, pattern=steps)
def test_no_window_exceeds_the_bucket(
    plan: BucketPlan, pattern: list[tuple[float, Lane | str]]
) -> None:
    taken = simulate(plan, pattern)
    assert_within([t for t, _, _ in taken], plan.capacity, plan.rate_per_s)


@settings(max_examples=200, deadline=None)
@given(pattern=steps)
def test_the_default_plan_stays_below_the_venue(pattern: list[tuple[float, Lane | str]]) -> None:
    times = [t for t, _, _ in simulate(PLAN, pattern)]
    assert_within(times, VENUE_BURST, VENUE_RATE)
    for start in times:  # one-second windows, and one instant
        assert sum(1 for t in times if start <= t <= start + 1.0) <= VENUE_BURST + VENUE_RATE
        assert sum(1 for t in times if t == start) <= VENUE_BURST


@settings(max_examples=300, deadline=None)
@given(plan=plans, pattern=steps)
def test_lower_lanes_never_spend_the_reserves(
    plan: BucketPlan, pattern: list[tuple[float, Lane | str]]
) -> None:
    for _, lane, level_after in simulate(plan, pattern):
        assert level_after >= plan.floor(lane) - 1e-6


@settings(max_examples=300, deadline=None)
@given(plan=plans, pattern=steps)
def test_withdrawals_can_always_take_the_reserve_after_other_lanes(
    plan: BucketPlan, pattern: list[tuple[float, Lane | str]]
) -> None:
    """Whatever POLL and SUBMIT did, right after any of their takes WITHDRAW can take its reserve."""
    t, b = 0.0, arith.full(plan, 0.0)
    for dt, what in pattern:
        t += dt
        if what in (Lane.POLL, Lane.SUBMIT) and arith.can_take(plan, b, what, 1, t):
            b = arith.take(plan, b, what, 1, t)
            probe = b
            for _ in range(plan.withdraw_reserve):
                assert arith.can_take(plan, probe, Lane.WITHDRAW, 1, t)
                probe = arith.take(plan, probe, Lane.WITHDRAW, 1, t)


@settings(max_examples=300, deadline=None)
@given(
    plan=plans,
    level=st.floats(0.0, 200.0),
    lane=st.sampled_from(Lane),
    now=st.floats(0.0, 1e6),
)
def test_wait_is_exactly_long_enough(
    plan: BucketPlan, level: float, lane: Lane, now: float
) -> None:
    b = Bucket(level=min(level, plan.capacity), at_s=now)
    wait = arith.wait_s(plan, b, lane, 1, now)
    assert math.isfinite(wait)
    assert arith.can_take(plan, b, lane, 1, now + wait)
    if wait > 1e-6:
        assert not arith.can_take(plan, b, lane, 1, now + wait * 0.99 - 1e-6)


def test_more_than_a_lane_may_ever_hold_waits_forever() -> None:
    assert arith.wait_s(PLAN, arith.full(PLAN, 0.0), Lane.POLL, 61, 0.0) == math.inf


def test_a_429_empties_the_bucket_and_it_refills_at_the_rate() -> None:
    b = arith.emptied(arith.full(PLAN, 0.0), 5.0)
    assert arith.level_at(PLAN, b, 5.0) == 0.0
    assert arith.level_at(PLAN, b, 6.0) == 9.0
    assert arith.wait_s(PLAN, b, Lane.WITHDRAW, 1, 5.0) == pytest.approx(1 / 9)
    assert arith.wait_s(PLAN, b, Lane.POLL, 1, 5.0) == pytest.approx(31 / 9)


@given(spent=st.integers(0, 6000), exhausted=st.booleans())
def test_daily_allowances_keep_the_reserves(spent: int, exhausted: bool) -> None:
    daily = DailyPlan(quota=5000, withdraw_reserve=250, submit_reserve=500)
    left = {lane: arith.daily_left(daily, spent, exhausted, lane) for lane in Lane}
    if exhausted:
        assert set(left.values()) == {0}
        return
    assert left[Lane.WITHDRAW] == max(0, 5000 - spent)
    assert left[Lane.SUBMIT] == max(0, 4750 - spent)
    assert left[Lane.POLL] == max(0, 4250 - spent)
    assert left[Lane.POLL] <= left[Lane.SUBMIT] <= left[Lane.WITHDRAW]
