"""Contract §2 and §6 against the sandbox: the usage plan is never exceeded by our own doing,
429 storms and a spent quota are handled, and withdrawals keep their reserve."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from quoter.basics.usage import Lane
from quoter.clock import ScaledClock
from quoter.sandbox.server import RunningSandbox, run_sandbox
from quoter.venue.config import UsagePlanConfig
from quoter.venue.errors import GuardRefused, NotFound, QuotaExhausted, RateLimited
from quoter.venue.guard import plans_of
from tests.conftest import sandbox_config
from tests.engine.harness import eventually
from tests.venue.contract import client, counters, fault

# A fast plan so a real-time test can exhaust the burst quickly: 50/s, burst 20.
FAST_PLAN: dict[str, Any] = {
    "rate_per_s": 50.0,
    "burst": 20,
    "headroom": 0.9,
    "withdraw_reserve_burst": 4,
    "submit_reserve_burst": 2,
}


async def test_a_burst_never_reaches_the_venues_limit(tmp_path: Path) -> None:
    config = sandbox_config(rate_per_s=50.0, burst=20, daily_quota=1000)
    async with run_sandbox(config, clock=ScaledClock(start=config.start)) as sandbox:
        plan = {
            **FAST_PLAN,
            "daily_quota": 1000,
            "withdraw_reserve_daily": 50,
            "submit_reserve_daily": 50,
        }
        async with client(sandbox, tmp_path, usage_plan=plan) as venue:
            await asyncio.gather(*(venue.list_rfqs(limit=1) for _ in range(40)))
            await asyncio.gather(
                *(venue.withdraw_quote("r", f"q{i}") for i in range(5)), return_exceptions=True
            )
        seen = await counters(sandbox)
    times = sorted(seen["request-times"])
    assert seen["rate-limited"] == 0
    assert seen["requests"] == 46
    for i, start in enumerate(times):  # no window holds more than our bucket lets through
        in_window = [t for t in times[i:] if t <= start + 0.5]
        assert len(in_window) <= 18 + 45 * 0.5 + 1


async def test_a_429_storm_is_ridden_out(sandbox: RunningSandbox, tmp_path: Path) -> None:
    await fault(sandbox, "rate-limit", count=2, path="/rfqs")
    # A fast client plan keeps the real-time waits short; only a few requests are sent.
    async with client(sandbox, tmp_path, read_retries=3, usage_plan=FAST_PLAN) as venue:
        await venue.list_rfqs()
        assert venue.stats.rate_limited == 2
        # each retry waited for our emptied bucket to refill past the reserves (7 tokens)
        assert venue.stats.guard_waits["POLL"] == 2
        await fault(sandbox, "rate-limit", count=5, path="/rfqs")
        with pytest.raises(RateLimited):
            await venue.list_rfqs()


async def test_a_retry_after_holds_every_lane_until_it_has_passed(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    await fault(sandbox, "rate-limit", count=1, path="/rfqs", **{"retry-after": "2"})
    async with client(sandbox, tmp_path, read_retries=1) as venue:
        read = asyncio.create_task(venue.list_rfqs())
        await eventually(lambda: venue.stats.rate_limited == 1, "the 429")
        # A withdrawal, the lane that waits least for our bucket, waits out the venue's pause
        # as the read's retry does: the bucket is the key's, not a lane's.
        with pytest.raises(NotFound):
            await venue.withdraw_quote("r", "q")
        await read
    seen = await counters(sandbox)
    assert seen["by-status"] == {"200": 2, "429": 1, "404": 1}
    _authenticated, refused, *after = seen["request-times"]
    assert len(after) == 2
    assert min(after) - refused >= 2.0


@pytest.mark.parametrize(("retry_after", "hold_s"), [("86400", 1.5), ("in a while", 1.0)])
async def test_a_retry_after_too_long_or_unreadable_is_bounded_and_named(
    sandbox: RunningSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    retry_after: str,
    hold_s: float,
) -> None:
    await fault(sandbox, "rate-limit", count=1, path="/rfqs", **{"retry-after": retry_after})
    caplog.set_level(logging.WARNING, logger="quoter.venue.session")
    async with client(sandbox, tmp_path, read_retries=1, max_retry_after_s=1.5) as venue:
        await venue.list_rfqs()
        assert venue.stats.retry_after_unusable == 1
    _, refused, retried = (await counters(sandbox))["request-times"]
    assert retried - refused >= hold_s
    named = [r.getMessage() for r in caplog.records if "Retry-After" in r.getMessage()]
    assert any(f"list_rfqs: 429 Retry-After {retry_after!r}" in m for m in named), named


async def test_the_venues_quota_stops_us_for_the_day(tmp_path: Path) -> None:
    config = sandbox_config(daily_quota=5)
    async with (
        run_sandbox(config, clock=ScaledClock(start=config.start)) as sandbox,
        client(sandbox, tmp_path) as venue,  # the client believes in 5000
    ):
        for _ in range(4):
            await venue.list_rfqs()
        with pytest.raises(QuotaExhausted):
            await venue.list_rfqs()
        sent = (await counters(sandbox))["requests"]
        with pytest.raises(QuotaExhausted):
            await venue.withdraw_quote("r", "q")
        assert (await counters(sandbox))["requests"] == sent
        assert venue.guard_state().exhausted


async def test_our_ledger_stops_polling_first_and_keeps_withdrawals(tmp_path: Path) -> None:
    config = sandbox_config(daily_quota=30)
    plan = {"daily_quota": 30, "withdraw_reserve_daily": 5, "submit_reserve_daily": 5}
    async with run_sandbox(config, clock=ScaledClock(start=config.start)) as sandbox:
        async with client(sandbox, tmp_path, usage_plan=plan) as venue:
            for _ in range(19):  # 1 authentication + 19 polls = the 20 polling may spend
                await venue.list_quotes()
            with pytest.raises(GuardRefused):
                await venue.list_quotes()
            assert venue.guard_state().left_today == {
                Lane.WITHDRAW: 10,
                Lane.SUBMIT: 5,
                Lane.POLL: 0,
            }
            for _ in range(10):
                with pytest.raises(NotFound):
                    await venue.withdraw_quote("r", "q")
            with pytest.raises(QuotaExhausted):
                await venue.withdraw_quote("r", "q")
        seen = await counters(sandbox)
    assert seen["quota-exceeded"] == 0
    assert sum(seen["quota-spent"].values()) == 30


async def test_the_ledger_resumes_after_a_restart(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with client(sandbox, tmp_path) as venue:
        for _ in range(5):
            await venue.list_rfqs()
        spent = venue.guard_state().spent_today
    async with client(sandbox, tmp_path) as venue:
        assert venue.guard_state().spent_today == spent == 6
    seen = await counters(sandbox)
    assert sum(seen["quota-spent"].values()) == spent


async def test_a_tool_beside_the_bot_keeps_both_under_the_venues_limit(tmp_path: Path) -> None:
    """quoter trades export (or backtest record) on the bot's key while the bot polls flat out:
    neither sees a 429, and the shared ledger counts every request both sent."""
    config = sandbox_config(rate_per_s=50.0, burst=20, daily_quota=1000)
    plan = {**FAST_PLAN, "daily_quota": 1000, "withdraw_reserve_daily": 50}
    side = UsagePlanConfig.model_validate(
        {**plan, "ledger_path": tmp_path / "ledger.json"}
    ).beside_the_bot()
    side_plan = side.model_dump(exclude={"ledger_path"})
    async with run_sandbox(config, clock=ScaledClock(start=config.start)) as sandbox:
        async with (
            client(sandbox, tmp_path, usage_plan=plan) as bot,
            client(sandbox, tmp_path, usage_plan=side_plan) as tool,
        ):
            await asyncio.gather(
                *(bot.list_rfqs(limit=1) for _ in range(60)),
                *(tool.list_trades(limit=1) for _ in range(4)),
            )
            spent = max(bot.guard_state().spent_today, tool.guard_state().spent_today)
        seen = await counters(sandbox)
    assert seen["rate-limited"] == 0
    assert seen["requests"] == spent == 64 + 2  # two authentications


def test_a_tool_takes_half_of_what_the_bot_leaves_and_none_of_its_daily_reserve() -> None:
    bot = UsagePlanConfig()
    tool = bot.beside_the_bot()
    bot_bucket, bot_day = plans_of(bot)
    tool_bucket, tool_day = plans_of(tool)
    assert bot_bucket.rate_per_s + tool_bucket.rate_per_s <= 0.95 * bot.rate_per_s + 1e-9
    assert bot_bucket.capacity + tool_bucket.capacity <= 0.95 * bot.burst
    assert tool_day == bot_day  # the day's reserves for quotes and withdrawals stay kept
    with pytest.raises(ValueError, match="headroom is 1: it leaves no share"):
        UsagePlanConfig(headroom=1.0).beside_the_bot()
