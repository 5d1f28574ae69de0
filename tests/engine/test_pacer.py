"""The poll pacer's own bookkeeping: the close it keeps between polls is the calendar's at
every instant, across closes, nights and a change of clocks, and asking the calendar once a
session is enough."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from quoter.domain.market import MARKET_TIMEZONE
from quoter.engine.hours import TradingCalendar, TradingHoursConfig
from quoter.engine.planner import PollConfig, PollPacer
from tests.engine.test_poll_boundaries import _curves, _engine

STEP_S = 7 * 60 + 13.5  # lands on every part of a day, a close's neighbourhood included


class CountingCalendar(TradingCalendar):
    def __init__(self, config: TradingHoursConfig) -> None:
        super().__init__(config)
        self.asked = 0

    def session(self, day: date) -> tuple[datetime, datetime]:
        self.asked += 1
        return super().session(day)


class Allowance:
    def poll_allowance(self) -> tuple[date, int]:
        return date(2026, 3, 27), 4000


@pytest.mark.parametrize(
    "hours",
    [TradingHoursConfig(), TradingHoursConfig(all_day=True)],
    ids=["08-18", "all-day"],
)
def test_the_pacers_close_is_the_calendars_and_asked_once_a_session(
    hours: TradingHoursConfig, tmp_path: Path
) -> None:
    # Friday 27 March 2026 to Tuesday: the clocks change on Sunday the 29th.
    engine, clock = _engine(tmp_path, datetime(2026, 3, 27, 5, 0, tzinfo=UTC), _curves())
    calendar, reference = CountingCalendar(hours), TradingCalendar(hours)
    quota = Allowance()
    pacer = PollPacer(PollConfig(), clock, quota, calendar, engine.desk)  # type: ignore[arg-type]
    end = datetime.combine(date(2026, 3, 31), time(23), MARKET_TIMEZONE)
    polls, outside = 0, 0
    while clock.now() < end:
        now = clock.now()
        assert pacer._seconds_to_close(now) == reference.seconds_to_close(now), now
        pacer.plan()
        opens, closes = reference.session_at(now)
        outside += not opens <= now < closes
        polls += 1
        clock.advance(STEP_S)
    assert polls > 900
    # Once a market day, and outside sessions at each of the two asks a step makes.
    assert calendar.asked <= 5 + 2 * outside
