"""The usage-plan guard: every request the client sends first takes a token here.

It keeps our bucket below the venue's, counts the UTC day's requests in the persisted ledger, and
serves waiting callers in lane priority (WITHDRAW, then SUBMIT, then POLL; FIFO within a lane).
A caller whose lane has no daily allowance left is refused at once. Waits use the injected clock.

A ledger that cannot be trusted (damaged, unreadable, or not writable) puts the guard in fail-safe:
the day's quota counts as spent but for the withdrawal reserve, so withdrawals still go and nothing
else does; said once in the log, and in `GuardState.ledger_failsafe`. It lasts until the file can
be read and written again (a person fixed or removed it; looked at every `LEDGER_RECHECK_S`) or
the UTC day turns.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections import deque
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from quoter.basics.usage import GuardState, Lane
from quoter.clock import Clock
from quoter.venue import bucket as arith
from quoter.venue.bucket import Bucket, BucketPlan, DailyPlan
from quoter.venue.config import UsagePlanConfig
from quoter.venue.errors import GuardRefused, QuotaExhausted
from quoter.venue.ledger import DayEntry, LedgerDamaged, QuotaLedger
from quoter.venue.stats import VenueStats

log = logging.getLogger(__name__)

LEDGER_RECHECK_S = 5.0  # in fail-safe: how often the ledger is tried again
LANES = tuple(Lane)  # iterating the enum itself costs more than the work done per lane
# The latest 429 Too Many Requests answers' times: more than a minute's worth at our rate.
RATE_LIMITED_KEPT = 1024


def plans_of(config: UsagePlanConfig) -> tuple[BucketPlan, DailyPlan]:
    """Our bucket (rate and burst times headroom) and the day's allowances."""
    bucket = BucketPlan(
        rate_per_s=config.rate_per_s * config.headroom,
        capacity=int(config.burst * config.headroom),
        withdraw_reserve=config.withdraw_reserve_burst,
        submit_reserve=config.submit_reserve_burst,
    )
    daily = DailyPlan(
        quota=config.daily_quota,
        withdraw_reserve=config.withdraw_reserve_daily,
        submit_reserve=config.submit_reserve_daily,
    )
    return bucket, daily


class UsageGuard:
    def __init__(
        self, config: UsagePlanConfig, clock: Clock, ledger: QuotaLedger, stats: VenueStats
    ) -> None:
        self._bucket_plan, self._daily_plan = plans_of(config)
        self._clock = clock
        self._ledger = ledger
        self._stats = stats
        self._failsafe: str | None = None
        # The UTC day of the clock's last reading and the instants it runs over: the day is
        # asked for on every request, and converted only when an instant falls outside it.
        self._day_span: tuple[datetime, datetime, date] | None = None
        # The instant last asked about (the clock's own object, held here) and its day: a
        # replay's clock stands still between steps, and the day is asked several times a step.
        self._day_at: datetime | None = None
        self._day_at_day = date.min
        self._known = DayEntry(self._today(), 0)  # the day as counted, fail-safe or not
        self._taken_unrecorded = 0  # requests sent in fail-safe, not yet in the file
        self._recheck_at_s = 0.0
        try:
            self._known = ledger.load(self._today())
        except LedgerDamaged as error:
            self._enter_failsafe(str(error))
        self._entry = self._effective(self._known)
        self._bucket = self._restored_bucket(self._entry)
        self._queue: list[tuple[int, int]] = []
        self._turns: dict[tuple[int, int], asyncio.Event] = {}
        self._seq = itertools.count()
        # The last state() and what it was computed from: the engine asks several times an
        # instant (a replay's clock stands still between its steps).
        self._state: tuple[tuple[object, ...], GuardState] | None = None
        self._rate_limited_at: deque[float] = deque(maxlen=RATE_LIMITED_KEPT)
        self._rate_limited = 0

    def _today(self) -> date:
        now = self._clock.now()
        if now is self._day_at:
            return self._day_at_day
        return self._day_of(now)

    def _day_of(self, now: datetime) -> date:
        """The UTC day of `now`, remembered as the day of the instant last asked about."""
        span = self._day_span
        if span is not None and span[0] <= now < span[1]:
            today = span[2]
        else:
            today = now.astimezone(UTC).date()
            begins = datetime.combine(today, time(0), tzinfo=UTC)
            self._day_span = (begins, begins + timedelta(days=1), today)
        self._day_at, self._day_at_day = now, today
        return today

    def _restored_bucket(self, entry: DayEntry) -> Bucket:
        """The bucket as the last run left it, refilled for the time since; full if unknown."""
        t_s = self._clock.monotonic()
        if entry.bucket_level is None or entry.bucket_at is None:
            return arith.full(self._bucket_plan, t_s)
        elapsed_s = max(0.0, (self._clock.now() - entry.bucket_at).total_seconds())
        level = entry.bucket_level + elapsed_s * self._bucket_plan.rate_per_s
        return Bucket(level=min(float(self._bucket_plan.capacity), max(0.0, level)), at_s=t_s)

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._entry.day:
            log.info("quota day %s begins; %d requests were spent on %s", today, *self._spent())
            self._known = self._known.rolled(today)
            if self._failsafe is not None:
                self._start_day_afresh()
            self._entry = self._effective(self._known)
        elif self._failsafe is not None:
            self._try_ledger_again()

    def _effective(self, known: DayEntry) -> DayEntry:
        """The day as the lanes see it: in fail-safe, spent up to the withdrawal reserve."""
        if self._failsafe is None:
            return known
        floor = self._daily_plan.quota - self._daily_plan.withdraw_reserve
        return replace(known, spent=max(known.spent, floor))

    def _enter_failsafe(self, why: str) -> None:
        if self._failsafe is None:
            log.error(
                "%s; the day's quota now counts as spent but for the withdrawal reserve (only "
                "withdrawals go) until the file is fixed or removed, or the UTC day turns",
                why,
            )
        self._failsafe = why

    def _leave_failsafe(self, entry: DayEntry) -> None:
        log.warning("quota ledger %s trusted again: %d spent today", self._ledger.path, entry.spent)
        self._failsafe = None
        self._taken_unrecorded = 0
        self._known = self._entry = entry

    def _try_ledger_again(self) -> None:
        """In fail-safe: every LEDGER_RECHECK_S, read and write the file again, adding what was
        sent meanwhile; trusted again if both work."""
        t_s = self._clock.monotonic()
        if t_s < self._recheck_at_s:
            return
        self._recheck_at_s = t_s + LEDGER_RECHECK_S
        try:
            entry = self._ledger.record(self._known, self._taken_unrecorded, self._clock.now())
        except LedgerDamaged as error:
            self._failsafe = str(error)
            return
        except OSError as error:
            self._stats.ledger_write_errors += 1
            self._failsafe = f"cannot write quota ledger {self._ledger.path}: {error.strerror}"
            return
        self._leave_failsafe(entry)

    def _start_day_afresh(self) -> None:
        """The day turned in fail-safe: the venue's count restarts, so ours may too."""
        try:
            self._ledger.start_afresh(self._known)
        except OSError as error:
            self._stats.ledger_write_errors += 1
            self._failsafe = f"cannot write quota ledger {self._ledger.path}: {error.strerror}"
            return
        self._leave_failsafe(self._known)

    def _spent(self) -> tuple[int, date]:
        return self._entry.spent, self._entry.day

    def take_now(self, lane: Lane) -> bool:
        """Take one token for a request in `lane` if it can go at once (nobody waiting, a token
        in the bucket): what `acquire` does without its wait, and without a coroutine, for an
        in-process venue that asks for every simulated request. False: `acquire` must wait.
        Refuses as `acquire` does."""
        if self._queue:
            return False
        self._refuse_if_spent(lane)
        after = arith.try_take(self._bucket_plan, self._bucket, lane, 1, self._clock.monotonic())
        if after is None:
            return False
        self._charge(after)
        return True

    async def acquire(self, lane: Lane) -> None:
        """Take one token for a request in `lane`, waiting our turn and for the bucket."""
        if self.take_now(lane):  # nobody waiting and a token there
            return
        ticket = (int(lane), next(self._seq))
        turn = asyncio.Event()
        bisect.insort(self._queue, ticket)
        self._turns[ticket] = turn
        waited_s = 0.0
        try:
            while True:
                self._refuse_if_spent(lane)
                if self._queue[0] != ticket:
                    turn.clear()
                    await turn.wait()
                    continue
                t_s = self._clock.monotonic()
                wait_s = arith.wait_s(self._bucket_plan, self._bucket, lane, 1, t_s)
                if wait_s == 0.0:
                    self._charge(arith.take(self._bucket_plan, self._bucket, lane, 1, t_s))
                    return
                waited_s += wait_s
                await self._clock.sleep(wait_s)
        finally:
            if waited_s:
                self._stats.count_wait(lane.name, waited_s)
            self._queue.remove(ticket)
            del self._turns[ticket]
            if self._queue:
                self._turns[self._queue[0]].set()

    def _refuse_if_spent(self, lane: Lane) -> None:
        self._roll_day()
        if arith.daily_left(self._daily_plan, self._entry.spent, self._entry.exhausted, lane) > 0:
            return
        self._stats.guard_refused[lane.name] += 1
        spent, day = self._spent()
        if self._failsafe is not None:
            raise GuardRefused(
                f"{lane.name} refused: the quota ledger cannot be trusted ({self._failsafe}); "
                "only withdrawals go"
            )
        if self._entry.exhausted or spent >= self._daily_plan.quota:
            raise QuotaExhausted(f"daily quota spent for {day} ({spent} requests)")
        raise GuardRefused(
            f"{lane.name} has used its daily allowance ({spent} spent on {day}); "
            "the rest is kept for higher lanes"
        )

    def _charge(self, bucket: Bucket) -> None:
        """One request sent, leaving the bucket at `bucket`."""
        self._bucket = bucket
        self._record(self._entry.exhausted, bucket.level, None, taken=1)

    def _record(
        self,
        exhausted: bool,
        bucket_level: float | None,
        bucket_at: datetime | None,
        taken: int,
    ) -> None:
        """Count `taken` requests in the ledger, with the venue's verdict and our bucket (as of
        `bucket_at`, None: now), learning other processes' spend on the key. A ledger that
        cannot be read or written puts the guard in fail-safe: a restart, or another process
        on the key, would not know this spend."""
        now = self._clock.now()
        at = now if bucket_at is None else bucket_at
        # Built directly, not by `replace`: this runs for every request.
        known = DayEntry(self._known.day, self._known.spent, exhausted, bucket_level, at)
        if self._failsafe is None:
            try:
                self._known = self._entry = self._ledger.record(known, taken, now)
                return
            except LedgerDamaged as error:
                self._enter_failsafe(str(error))
            except OSError as error:
                self._stats.ledger_write_errors += 1
                why = f"cannot write quota ledger {self._ledger.path}: {error.strerror}"
                self._enter_failsafe(why)
            self._recheck_at_s = self._clock.monotonic() + LEDGER_RECHECK_S
        self._taken_unrecorded += taken
        self._known = replace(known, spent=known.spent + taken)
        self._entry = self._effective(self._known)

    def venue_bucket_empty(self, hold_s: float = 0.0) -> None:
        """The venue answered 429 Too Many Requests: it knows better, so empty our bucket, and
        send nothing in any lane for `hold_s` (its Retry-After): the bucket is the key's."""
        t_s = self._clock.monotonic()
        self._rate_limited += 1
        self._rate_limited_at.append(t_s)
        self._bucket = arith.emptied(self._bucket, t_s, hold_s)

    def rate_limited_answers(self, window_s: float) -> tuple[int, int]:
        """The venue's 429 Too Many Requests answers: how many since the guard began, and how
        many in the last `window_s` seconds; each one, whether a retry absorbed it or not."""
        since_s = self._clock.monotonic() - window_s
        recent = sum(1 for t_s in self._rate_limited_at if t_s > since_s)
        return self._rate_limited, recent

    def venue_day_spent(self) -> None:
        """The venue answered 429 Limit Exceeded: nothing more goes out until 00:00 UTC."""
        self._roll_day()
        if not self._entry.exhausted:
            log.warning("venue reports the daily quota spent (our count: %d)", self._entry.spent)
            entry = self._entry
            self._record(True, entry.bucket_level, entry.bucket_at, taken=0)

    def ledger_failsafe(self) -> str | None:
        """Why the quota ledger cannot be trusted, or None: `state().ledger_failsafe`, with the
        day rolled and the ledger tried again as `state()` does, without the rest. Asked twice
        a poll: out of fail-safe, at the instant last asked about and on the day counted,
        `_roll_day()` would do nothing, and is not called."""
        now = self._clock.now()
        if self._failsafe is None and now is self._day_at and self._day_at_day == self._entry.day:
            return None
        self._roll_day()
        return self._failsafe

    def allowance(self, lane: Lane) -> tuple[date, int]:
        """The quota day and what `lane` has left of it: `state().day` and
        `state().left_today[lane]`, without the rest."""
        self._roll_day()
        entry = self._entry
        return entry.day, arith.daily_left(self._daily_plan, entry.spent, entry.exhausted, lane)

    def state(self) -> GuardState:
        self._roll_day()
        t_s = self._clock.monotonic()
        inputs = (t_s, self._bucket, self._entry, tuple(self._queue), self._failsafe)
        if self._state is not None and self._state[0] == inputs:
            return self._state[1]
        level = arith.level_at(self._bucket_plan, self._bucket, t_s)
        entry = self._entry
        left = {
            lane: arith.daily_left(self._daily_plan, entry.spent, entry.exhausted, lane)
            for lane in LANES
        }
        free = {lane: max(0.0, level - self._bucket_plan.floor(lane)) for lane in LANES}
        waiting = {lane: sum(1 for t in self._queue if t[0] == lane) for lane in LANES}
        midnight = datetime.combine(entry.day + timedelta(days=1), time(0), tzinfo=UTC)
        state = GuardState(
            day=entry.day,
            spent_today=entry.spent,
            daily_quota=self._daily_plan.quota,
            exhausted=entry.exhausted,
            left_today=MappingProxyType(left),
            tokens_now=level,
            tokens_free=MappingProxyType(free),
            waiting=MappingProxyType(waiting),
            resets_at=midnight,
            ledger_failsafe=self._failsafe,
        )
        self._state = (inputs, state)
        return state
