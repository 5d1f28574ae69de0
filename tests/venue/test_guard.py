"""The async guard on a manual clock: lanes, priority, daily allowances, the ledger, 429s."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quoter.backtest.simvenue import memory_guard
from quoter.basics.usage import Lane
from quoter.clock import ManualClock
from quoter.venue.config import UsagePlanConfig
from quoter.venue.errors import GuardRefused, QuotaExhausted
from quoter.venue.guard import LEDGER_RECHECK_S, UsageGuard
from quoter.venue.ledger import DayEntry, QuotaLedger
from quoter.venue.stats import VenueStats
from tests.venue.clocks import START, drive, settle
from tests.virtual_time import run_on_virtual_time

KEY = "api-key-1"


def make_guard(
    tmp_path: Path, clock: ManualClock, *, stats: VenueStats | None = None, **plan: object
) -> UsageGuard:
    config = UsagePlanConfig.model_validate({"ledger_path": tmp_path / "ledger.json", **plan})
    ledger = QuotaLedger(config.ledger_path, KEY)
    return UsageGuard(config, clock, ledger, stats or VenueStats())


async def take_now(guard: UsageGuard, lane: Lane, n: int) -> None:
    for _ in range(n):
        await asyncio.wait_for(guard.acquire(lane), timeout=1)


async def test_each_lane_may_use_the_bucket_down_to_its_floor(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)  # 90 tokens: 20 for withdrawals, 10 more for submits
    await take_now(guard, Lane.POLL, 60)
    assert guard.state().tokens_free[Lane.POLL] == 0
    await take_now(guard, Lane.SUBMIT, 10)
    await take_now(guard, Lane.WITHDRAW, 20)
    state = guard.state()
    assert state.tokens_now == 0
    assert state.spent_today == 90
    assert state.left_today == {Lane.WITHDRAW: 4910, Lane.SUBMIT: 4660, Lane.POLL: 4160}


async def test_waiters_are_served_in_lane_priority(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    await take_now(guard, Lane.WITHDRAW, 90)
    served: list[str] = []

    async def one(lane: Lane, name: str) -> None:
        await guard.acquire(lane)
        served.append(name)

    await drive(
        clock,
        one(Lane.POLL, "poll-1"),
        one(Lane.POLL, "poll-2"),
        one(Lane.SUBMIT, "submit-1"),
        one(Lane.WITHDRAW, "withdraw-1"),
        one(Lane.SUBMIT, "submit-2"),
        one(Lane.WITHDRAW, "withdraw-2"),
    )
    assert served == ["withdraw-1", "withdraw-2", "submit-1", "submit-2", "poll-1", "poll-2"]
    # Each lane waited for the bucket to refill past its floor: W 1+1, S 21+1, P 11+1 tokens at 9/s.
    assert clock.monotonic() == pytest.approx(36 / 9, abs=1e-6)


async def test_a_late_withdrawal_overtakes_a_waiting_poll(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    await take_now(guard, Lane.POLL, 60)
    poll = asyncio.ensure_future(guard.acquire(Lane.POLL))
    await settle()
    assert not poll.done()
    await take_now(guard, Lane.WITHDRAW, 1)  # not queued behind the poll
    clock.advance(10)
    await settle()
    assert poll.done()


async def test_a_cancelled_waiter_does_not_block_the_queue(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    await take_now(guard, Lane.POLL, 60)
    first = asyncio.ensure_future(guard.acquire(Lane.POLL))
    second = asyncio.ensure_future(guard.acquire(Lane.POLL))
    await settle()
    first.cancel()
    await drive(clock, second)
    assert guard.state().waiting == {lane: 0 for lane in Lane}


async def test_take_now_takes_at_once_or_says_wait_and_refuses_as_acquire_does(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    stats = VenueStats()
    guard = make_guard(tmp_path, clock, stats=stats)
    assert all(guard.take_now(Lane.POLL) for _ in range(60))
    assert guard.state().spent_today == 60
    assert not guard.take_now(Lane.POLL)  # the poll lane is down to its floor: it must wait
    waiting = asyncio.ensure_future(guard.acquire(Lane.POLL))
    await settle()
    # A poll waits in the queue: nothing goes at once, not even a withdrawal (acquire then
    # serves it first, without waiting for time to pass).
    assert not guard.take_now(Lane.WITHDRAW)
    await asyncio.wait_for(guard.acquire(Lane.WITHDRAW), timeout=1)
    await drive(clock, waiting)
    assert guard.state().spent_today == 62
    QuotaLedger(tmp_path / "ledger.json", KEY).save(DayEntry(START.date(), 5000))
    spent = make_guard(tmp_path, clock, stats=stats)
    with pytest.raises(QuotaExhausted):
        spent.take_now(Lane.WITHDRAW)
    assert stats.guard_refused == {"WITHDRAW": 1}


async def test_spent_lanes_are_refused_at_once_and_reserves_kept(tmp_path: Path) -> None:
    clock = ManualClock(START)
    stats = VenueStats()
    QuotaLedger(tmp_path / "ledger.json", KEY).save(DayEntry(START.date(), 4250))
    guard = make_guard(tmp_path, clock, stats=stats)
    with pytest.raises(GuardRefused):
        await guard.acquire(Lane.POLL)
    await take_now(guard, Lane.SUBMIT, 10)
    assert guard.state().spent_today == 4260
    QuotaLedger(tmp_path / "ledger.json", KEY).save(DayEntry(START.date(), 5000))
    guard = make_guard(tmp_path, clock, stats=stats)
    with pytest.raises(QuotaExhausted):
        await guard.acquire(Lane.WITHDRAW)
    assert stats.guard_refused == {"POLL": 1, "WITHDRAW": 1}


async def test_waiters_are_refused_when_the_venue_says_the_day_is_spent(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    await take_now(guard, Lane.WITHDRAW, 90)
    waiters = [asyncio.ensure_future(guard.acquire(lane)) for lane in (Lane.POLL, Lane.WITHDRAW)]
    await settle()
    guard.venue_day_spent()
    clock.advance(60)
    await settle()
    for waiter in waiters:
        with pytest.raises(QuotaExhausted):
            waiter.result()
    assert guard.state().left_today == {lane: 0 for lane in Lane}
    # The ledger remembers it across a restart, until 00:00 UTC.
    again = make_guard(tmp_path, clock)
    assert again.state().exhausted
    clock.advance((START.replace(hour=0) + timedelta(days=1) - clock.now()).total_seconds())
    assert again.state().spent_today == 0
    await take_now(again, Lane.POLL, 1)


async def test_a_venue_429_empties_the_bucket(tmp_path: Path) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    guard.venue_bucket_empty()
    assert guard.state().tokens_now == 0
    task = asyncio.ensure_future(guard.acquire(Lane.WITHDRAW))
    await settle()
    assert not task.done()
    await drive(clock, task)
    assert clock.monotonic() == pytest.approx(1 / 9)


async def test_a_restart_resumes_the_count_and_the_bucket(tmp_path: Path) -> None:
    clock = ManualClock(START)
    stats = VenueStats()
    guard = make_guard(tmp_path, clock, stats=stats)
    await take_now(guard, Lane.POLL, 40)
    clock.advance(1.0)
    restarted = make_guard(tmp_path, clock)
    state = restarted.state()
    assert state.spent_today == 40
    assert state.tokens_now == pytest.approx(90 - 40 + 9)


async def test_waiting_is_counted_per_lane(tmp_path: Path) -> None:
    clock = ManualClock(START)
    stats = VenueStats()
    guard = make_guard(tmp_path, clock, stats=stats)
    await take_now(guard, Lane.POLL, 60)
    await drive(clock, guard.acquire(Lane.POLL))
    assert stats.guard_waits == {"POLL": 1}
    assert stats.guard_wait_s["POLL"] == pytest.approx(1 / 9)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    arrivals=st.lists(
        st.tuples(st.floats(0, 3), st.sampled_from(Lane), st.integers(1, 40)),
        min_size=1,
        max_size=12,
    )
)
def test_granted_requests_never_exceed_the_plan(
    tmp_path: Path, arrivals: list[tuple[float, Lane, int]]
) -> None:
    """Bursts of callers arriving at random times: grants stay within burst + rate * window.
    The bucket's arithmetic on the replay's in-memory ledger: the file ledger's fsyncs (two a
    grant) took nine tenths of this test and move no virtual time, so the grants are the same;
    the file under the guard is the restart and second-process tests' above and below."""

    async def scenario(clock: ManualClock) -> list[float]:
        guard = memory_guard(UsagePlanConfig(ledger_path=tmp_path / "unused.json"), clock)
        granted: list[float] = []

        async def caller(delay_s: float, lane: Lane) -> None:
            await clock.sleep(delay_s)
            await guard.acquire(lane)
            granted.append(clock.monotonic())

        await asyncio.gather(*(caller(d, lane) for d, lane, n in arrivals for _ in range(n)))
        return granted

    granted = run_on_virtual_time(scenario, START)
    for i, start in enumerate(granted):
        for j in range(i, len(granted)):
            assert j - i + 1 <= 100 + 10 * (granted[j] - start) + 1e-6  # the venue's plan
            assert j - i + 1 <= 90 + 9 * (granted[j] - start) + 1e-3  # our own bucket


async def test_a_second_process_on_the_key_counts_in_the_bots_allowance(tmp_path: Path) -> None:
    """`quoter trades export` beside the bot: each guard learns the other's spend, so the
    withdrawal reserve is not spent behind the bot's back."""
    clock = ManualClock(START)
    bot, export = make_guard(tmp_path, clock), make_guard(tmp_path, clock)
    await take_now(bot, Lane.POLL, 10)
    await take_now(export, Lane.POLL, 30)
    assert export.state().spent_today == 40
    await take_now(bot, Lane.SUBMIT, 1)
    assert bot.state().spent_today == 41


async def test_the_failsafe_ask_follows_the_ledger_at_the_instants_state_does(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    assert guard.ledger_failsafe() is None
    await take_now(guard, Lane.POLL, 1)
    (tmp_path / "ledger.json").write_text("not a ledger")
    await take_now(guard, Lane.WITHDRAW, 1)  # counted into a damaged file: fail-safe
    why = guard.ledger_failsafe()
    assert why is not None
    assert why == guard.state().ledger_failsafe
    (tmp_path / "ledger.json").unlink()  # a person removed it: trusted again at the recheck
    clock.advance(LEDGER_RECHECK_S - 0.001)
    assert guard.ledger_failsafe() == why
    clock.advance(0.001)
    assert guard.ledger_failsafe() is None
    assert guard.state().ledger_failsafe is None


async def test_the_allowance_ask_is_the_states_day_and_lane_left_through_the_day_turn(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)

    def asked(lane: Lane) -> tuple[date, int]:
        state = guard.state()
        return state.day, state.left_today[lane]

    fresh = guard.allowance(Lane.POLL)
    await take_now(guard, Lane.POLL, 3)
    assert {lane: guard.allowance(lane) for lane in Lane} == {lane: asked(lane) for lane in Lane}
    assert guard.allowance(Lane.POLL) == (START.date(), fresh[1] - 3)
    midnight = datetime.combine(START.date() + timedelta(days=1), time(0), tzinfo=UTC)
    clock.advance((midnight - clock.now()).total_seconds())
    assert guard.allowance(Lane.POLL) == asked(Lane.POLL) == (midnight.date(), fresh[1])


class _SteppedClock(ManualClock):
    """Wall time set by hand while monotonic time stands still: an NTP step, a VM resumed."""

    def set_now(self, moment: datetime) -> None:
        self._now = moment


async def test_the_day_is_asked_of_each_instant_not_kept_from_the_last_ask(
    tmp_path: Path,
) -> None:
    """The guard keeps the day of the instant it last saw (a replay asks several times an
    instant): a wall clock stepped over midnight with monotonic time standing still, or stepped
    within the day, is a new instant, and its own day counts at the next ask."""
    clock = _SteppedClock(START)
    guard = make_guard(tmp_path, clock)
    fresh = guard.allowance(Lane.POLL)
    assert guard.take_now(Lane.POLL)
    assert guard.allowance(Lane.POLL) == (START.date(), fresh[1] - 1)
    clock.set_now(START + timedelta(hours=2))  # same day, another instant
    assert guard.allowance(Lane.POLL) == (START.date(), fresh[1] - 1)
    tomorrow = datetime.combine(START.date() + timedelta(days=1), time(0, 0, 1), tzinfo=UTC)
    clock.set_now(tomorrow)
    assert guard.ledger_failsafe() is None
    assert guard.allowance(Lane.POLL) == (tomorrow.date(), fresh[1])
    assert guard.take_now(Lane.POLL)
    assert guard.state().day == tomorrow.date()
    assert guard.state().spent_today == 1


async def test_the_failsafe_ask_rolls_the_day_at_a_new_instant_as_state_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The fail-safe ask skips the day's roll only at the instant it last looked and on the
    day counted: the first ask after midnight turns the day (said in the log), as `state()`
    would, not the next request."""
    clock = ManualClock(START)
    guard = make_guard(tmp_path, clock)
    await take_now(guard, Lane.POLL, 2)
    assert guard.ledger_failsafe() is None
    assert guard.ledger_failsafe() is None  # the same instant again: nothing to roll
    midnight = datetime.combine(START.date() + timedelta(days=1), time(0), tzinfo=UTC)
    clock.advance((midnight - clock.now()).total_seconds())
    with caplog.at_level("INFO", logger="quoter.venue.guard"):
        assert guard.ledger_failsafe() is None
    assert [r.getMessage() for r in caplog.records] == [
        f"quota day {midnight.date()} begins; 2 requests were spent on {START.date()}"
    ]
