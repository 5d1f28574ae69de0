from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from quoter.clock import ScaledClock
from quoter.sandbox.plan import DailyQuota, TokenBucket, UsagePlan, Verdict
from quoter.sandbox.server import run_sandbox
from tests.conftest import sandbox_config
from tests.sandbox.client import Venue

TOO_MANY = {"message": "Too Many Requests"}
LIMIT = {"message": "Limit Exceeded"}


@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 0.5), min_size=1, max_size=300),
    window=st.floats(0.01, 5),
)
def test_bucket_never_admits_more_than_burst_plus_rate_times_window(
    rate: float, burst: int, gaps: list[float], window: float
) -> None:
    bucket = TokenBucket(rate, burst, 0.0)
    times, admitted, now = [], [], 0.0
    for gap in gaps:
        now += gap
        times.append(now)
        admitted.append(bucket.take(now))
    passed = [t for t, ok in zip(times, admitted, strict=True) if ok]
    for i, start in enumerate(passed):
        inside = sum(1 for t in passed[i:] if t <= start + window)
        assert inside <= burst + rate * window + 1e-9


@given(st.integers(1, 20), st.integers(0, 60))
def test_quota_resets_at_utc_midnight(limit: int, extra: int) -> None:
    quota = DailyQuota(limit)
    day = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    results = [quota.count(day) for _ in range(limit + extra)]
    assert results == [True] * limit + [False] * extra
    assert quota.count(day + timedelta(hours=1)) is True
    assert quota.spent == 1


def test_plan_counts_refused_requests_against_the_quota() -> None:
    plan = UsagePlan(rate_per_s=1.0, burst=2, daily_quota=4, now_s=0.0)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    verdicts = [plan.admit(0.0, now) for _ in range(5)]
    assert verdicts == [
        Verdict.ADMITTED,
        Verdict.ADMITTED,
        Verdict.TOO_MANY_REQUESTS,
        Verdict.TOO_MANY_REQUESTS,
        Verdict.LIMIT_EXCEEDED,
    ]
    assert plan.spent_today(now) == 5


async def test_burst_then_429_then_refill(venue: Venue) -> None:
    await venue.control("POST", "/plan", {"rate-per-s": 0.01, "burst": 5})
    await venue.authenticate()
    statuses = [(await venue.call("GET", "/rfqs")).status for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # authenticate took the first token
    reply = await venue.call("GET", "/rfqs")
    assert (reply.status, reply.body) == (429, TOO_MANY)
    assert reply.headers["Retry-After"] == "100"  # when a token is back, at 0.01 a second
    await venue.advance(100)  # one token back
    assert (await venue.call("GET", "/rfqs")).status == 200
    assert (await venue.call("GET", "/rfqs")).status == 429
    counters = await venue.counters()
    assert counters["rate-limited"] == 3
    assert counters["quota-spent"] == {venue.running.sandbox.key_label: 9}


async def test_quota_limit_exceeded_until_utc_midnight() -> None:
    config = sandbox_config(daily_quota=6)
    async with (
        run_sandbox(config, clock=ScaledClock(start=config.start)) as running,
        aiohttp.ClientSession(running.base_url) as session,
    ):
        venue = Venue(running, session)
        await venue.authenticate()
        assert (await venue.call("GET", "/nope")).status == 404  # failed ones count too
        bad = await venue.send("GET", "/v2.2/rfqs", headers={"x-api-key": venue.api_key})
        assert bad.status == 401
        statuses = [(await venue.call("GET", "/rfqs")).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        reply = await venue.call("GET", "/rfqs")
        assert (reply.status, reply.body) == (429, LIMIT)
        await venue.advance(14 * 3600)  # 23:00 UTC: same UTC day
        assert (await venue.call("GET", "/rfqs")).status == 429
        await venue.advance(3600)  # 00:00 UTC
        assert (await venue.call("GET", "/rfqs")).status == 401  # token died at Berlin midnight
        counters = await venue.counters()
        assert counters["quota-exceeded"] == 3
        assert counters["authentications"] == 1
        assert counters["quota-spent"] == {running.sandbox.key_label: 1}
        assert "api_key" not in str(counters)
        assert venue.api_key not in str(counters)


async def test_controls_are_not_counted(venue: Venue) -> None:
    await venue.control("POST", "/plan", {"daily-quota": 1})
    for _ in range(5):
        await venue.control("GET", "/clock")
        await venue.make_rfq()
    await venue.authenticate()
    counters = await venue.counters()
    assert counters["requests"] == 1
    assert counters["by-route"] == {"POST /authenticate": 1}
