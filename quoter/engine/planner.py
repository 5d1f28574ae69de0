"""Quota-aware polling: how long to wait before the next poll of the venue.

With 5,000 requests a day polling is the binding cost. The interval is the time left in the
session spread over the polls the budget still allows, shortened while quotes are live or
deadlines near. Being recomputed after every poll, it slows itself down as the budget shrinks:
a stretch of fast polling is paid for by slower polling later; without urgency, polling alone
never spends the budget before the close.

Quotes need polls to find RFQs, so the set-aside for quoting never slows polling below
`tight_interval_s` (or, if the poll lane cannot afford that, below what it can until the
close). The trade-off, when the RFQ flow is more than the plan can carry: if quoting then goes
on at the projected pace, the poll lane can run out before the close and polling stops there;
the guard's reserves still keep the withdrawals' share.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from pydantic import Field

from quoter.basics.frozen import Frozen

if TYPE_CHECKING:  # the engine's configuration imports this module
    from quoter.clock import Clock
    from quoter.domain import Rfq
    from quoter.engine.desk import Desk
    from quoter.engine.hours import TradingCalendar
    from quoter.engine.state import QuotaView


class PollConfig(Frozen):
    min_interval_s: float = Field(1.0, gt=0, description="never poll faster than this")
    urgent_factor: float = Field(
        0.25, gt=0, le=1, description="share of the even interval used while urgent"
    )
    urgent_deadline_s: float = Field(
        90.0, gt=0, description="an RFQ this close to its deadline makes polling urgent"
    )
    closed_interval_s: float = Field(
        900.0, gt=0, description="outside trading hours: look this rarely (reads only)"
    )
    tight_interval_s: float = Field(
        60.0,
        gt=0,
        description="when quoting is projected to need every request left, still poll this "
        "often (slower if the poll lane cannot afford it): without polls nothing is quoted",
    )


@dataclass(frozen=True, slots=True)
class PollPlan:
    interval_s: float
    reason: str


def plan_poll(
    config: PollConfig,
    *,
    budget_requests: int,
    seconds_left: float,
    live_quotes: int,
    nearest_deadline_s: float | None,
    quoting_requests: int = 0,
    day_even_s: float | None = None,
) -> PollPlan:
    """The wait before the next poll, given the polls the budget still allows until the close
    once `quoting_requests` (what quoting is expected to spend until then) are set aside.

    Urgency borrows from later polls. It is allowed only while polling is not behind the day's
    even pace `day_even_s`: with quotes live nearly all day, an unconditional factor of 0.25
    makes the left budget fall as (time left)^4, leaving the afternoon without polls."""
    if seconds_left <= 0:
        return PollPlan(config.closed_interval_s, "closed")
    if budget_requests <= 0:
        # Wake at the close at the latest: the close withdraws what is still live.
        return PollPlan(seconds_left, "poll budget spent")
    # The slowest polling worth doing; never slower, whatever quoting is projected to need.
    tight_s = min(max(config.tight_interval_s, seconds_left / budget_requests), seconds_left)
    budget = budget_requests - quoting_requests
    if budget <= 0:
        return PollPlan(tight_s, "budget tight")
    even_s = seconds_left / budget
    deadline_near = (
        nearest_deadline_s is not None and nearest_deadline_s <= config.urgent_deadline_s
    )
    on_pace = day_even_s is None or even_s <= day_even_s
    urgent = (live_quotes > 0 or deadline_near) and on_pace
    interval = min(even_s * (config.urgent_factor if urgent else 1.0), tight_s)
    reason = "urgent" if urgent else "budget tight" if even_s > tight_s else "even"
    return PollPlan(max(interval, config.min_interval_s), reason)


class PollPacer:
    """What the plan depends on that only the engine sees: the deadlines of the RFQs it queued,
    its pace of quoting so far, and the day's even pace, fixed at the session's first poll."""

    def __init__(
        self,
        config: PollConfig,
        clock: Clock,
        quota: QuotaView,
        calendar: TradingCalendar,
        desk: Desk,
    ) -> None:
        self._config = config
        self._clock = clock
        self._quota = quota
        self._calendar = calendar
        self._desk = desk
        self._deadlines: list[tuple[datetime, str]] = []  # (deadline, RFQ id) of RFQs queued
        self._started_s = clock.monotonic()
        self._day_even: tuple[date, float] | None = None
        # The session (open, close) of the last poll's market day: a poll within it knows the
        # close without asking the calendar (a time zone conversion, two instants built).
        self._session: tuple[datetime, datetime] | None = None

    def expect(self, rfq: Rfq) -> None:
        """`rfq` was queued: its deadline may make polling urgent."""
        heapq.heappush(self._deadlines, (rfq.quote_deadline, rfq.id))

    def plan(self) -> PollPlan:
        now = self._clock.now()
        day, poll_left = self._quota.poll_allowance()
        seconds_left = self._seconds_to_close(now)
        if self._day_even is None or self._day_even[0] != day:
            pace = seconds_left / max(1, poll_left)
            self._day_even = (day, pace)
        return plan_poll(
            self._config,
            budget_requests=poll_left,
            seconds_left=seconds_left,
            live_quotes=self._desk.quotes.live_count(),
            nearest_deadline_s=self._nearest_deadline_s(now),
            quoting_requests=self._quoting_requests(seconds_left),
            day_even_s=self._day_even[1],
        )

    def _seconds_to_close(self, now: datetime) -> float:
        """`calendar.seconds_to_close(now)`, the calendar asked only when `now` leaves the
        session last seen: within it, the close is that session's."""
        session = self._session
        if session is None or not session[0] <= now < session[1]:
            opens, closes = self._calendar.session_at(now)
            # Kept in UTC, the clock's zone: comparing across zones asks Berlin's offset.
            session = self._session = (opens.astimezone(UTC), closes.astimezone(UTC))
        left_s = (session[1] - now).total_seconds()
        return left_s if left_s > 0.0 else 0.0  # max(0.0, left_s), without the call each poll

    def _nearest_deadline_s(self, now: datetime) -> float | None:
        """Seconds to the nearest deadline of an open RFQ still ahead: a heap of the deadlines
        seen, cleaned lazily, so a poll costs the deadlines that passed, not every open RFQ."""
        heap, open_rfq = self._deadlines, self._desk.rfqs.get
        while heap and (heap[0][0] <= now or open_rfq(heap[0][1]) is None):
            heapq.heappop(heap)
        return (heap[0][0] - now).total_seconds() if heap else None

    def _quoting_requests(self, seconds_left: float) -> int:
        """Quote submits expected until the close at this run's pace so far, with 50% to spare:
        they come out of the same daily allowance as the polls."""
        stats = self._desk.stats
        sent = stats.quotes_sent + stats.requotes_sent + stats.quotes_refused
        sent += stats.outcomes_unknown
        elapsed_s = self._clock.monotonic() - self._started_s
        elapsed_s = elapsed_s if elapsed_s > 600.0 else 600.0  # max(600.0, ...), each poll
        return int(1.5 * sent / elapsed_s * seconds_left)
