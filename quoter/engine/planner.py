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

from dataclasses import dataclass

from pydantic import Field

from quoter.venue.config import Frozen


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
