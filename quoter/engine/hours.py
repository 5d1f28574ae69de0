"""Trading hours: when each market area may be quoted, with its country's public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated

from pydantic import Field, model_validator

from quoter.basics.frozen import Frozen
from quoter.domain.market import MARKET_TIMEZONE

# Whose public holidays close an area: the country of its exchange or hub.
AREA_COUNTRY: dict[str, str] = {
    "DE": "DE",
    "AT": "AT",
    "FR": "FR",
    "NL": "NL",
    "BE": "BE",
    "CH": "CH",
    "THE": "DE",
    "TTF": "NL",
    "PEG": "FR",
    "CEGH-VTP": "AT",
    "PSV": "IT",
    "ZTP": "BE",
}


Weekday = Annotated[int, Field(ge=0, le=6)]


class TradingHoursConfig(Frozen):
    """One session a trading day, open_local to close_local, or the whole day (`all_day`): then
    consecutive trading days join up, with no close between them."""

    open_local: time = Field(time(8, 0), description="Europe/Berlin wall clock")
    close_local: time = Field(time(18, 0), description="Europe/Berlin wall clock, after open")
    all_day: bool = Field(False, description="open 00:00 to 24:00; then no open_local/close_local")
    weekdays: frozenset[Weekday] = Field(
        frozenset(range(5)), min_length=1, description="Monday is 0, Sunday 6"
    )
    observe_holidays: bool = True
    closed_dates: frozenset[date] = Field(frozenset(), description="extra days without trading")

    @model_validator(mode="after")
    def _session_makes_sense(self) -> TradingHoursConfig:
        given = {"open_local", "close_local"} & self.model_fields_set
        if self.all_day and given:
            raise ValueError(f"all_day = true takes no {' or '.join(sorted(given))}")
        if not self.all_day and self.close_local <= self.open_local:
            raise ValueError(
                f"close_local {self.close_local} is not after open_local {self.open_local} "
                "(a session within one day; for 24 hours set all_day = true)"
            )
        if any(t.tzinfo is not None for t in (self.open_local, self.close_local)):
            raise ValueError("open_local and close_local are Europe/Berlin wall clock: no offset")
        return self


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    # Imported here, not above: the configuration imports this module, and `quoter kill`
    # reads the configuration and must start fast; the tables cost tens of milliseconds.
    import holidays

    return frozenset(holidays.country_holidays(country, years=year))


class TradingCalendar:
    """Pure: answers for any instant; holds only a cache of holiday tables."""

    def __init__(self, config: TradingHoursConfig) -> None:
        if not config.all_day and config.close_local <= config.open_local:
            raise ValueError("trading hours must close after they open")
        self._config = config

    def is_trading_day(self, area: str, day: date) -> bool:
        c = self._config
        if day.weekday() not in c.weekdays or day in c.closed_dates:
            return False
        country = AREA_COUNTRY.get(area)
        return not (c.observe_holidays and country and day in _holidays(country, day.year))

    def session(self, day: date) -> tuple[datetime, datetime]:
        """The open and close instants of `day`'s session, timezone-aware."""
        c = self._config
        if c.all_day:  # local midnight to midnight: 23 or 25 hours on the days clocks change
            return (
                datetime.combine(day, time(0), MARKET_TIMEZONE),
                datetime.combine(day + timedelta(days=1), time(0), MARKET_TIMEZONE),
            )
        return (
            datetime.combine(day, c.open_local, MARKET_TIMEZONE),
            datetime.combine(day, c.close_local, MARKET_TIMEZONE),
        )

    def is_open(self, area: str, at: datetime) -> bool:
        day = at.astimezone(MARKET_TIMEZONE).date()
        opens, closes = self.session(day)
        return self.is_trading_day(area, day) and opens <= at < closes

    def open_span(self, areas: frozenset[str], at: datetime) -> tuple[bool, datetime]:
        """Whether any of `areas` is open at `at`, and the instant until which that holds at
        least: the session's close when open (every area shares the session), else the next
        open. The poll loop asks every poll; the answer changes only there."""
        day = at.astimezone(MARKET_TIMEZONE).date()
        opens, closes = self.session(day)
        if opens <= at < closes and any(self.is_trading_day(a, day) for a in areas):
            return True, closes
        return False, self.next_open(areas, at)

    def session_at(self, at: datetime) -> tuple[datetime, datetime]:
        """The open and close instants of the session of `at`'s market day."""
        return self.session(at.astimezone(MARKET_TIMEZONE).date())

    def seconds_to_close(self, at: datetime) -> float:
        """Seconds until today's close, 0 after it."""
        _, closes = self.session_at(at)
        return max(0.0, (closes - at).total_seconds())

    def next_open(self, areas: frozenset[str], after: datetime) -> datetime:
        """The next instant at or after `after` when any of `areas` is open."""
        day = after.astimezone(MARKET_TIMEZONE).date()
        for offset in range(370):
            candidate = day + timedelta(days=offset)
            if any(self.is_trading_day(a, candidate) for a in areas):
                opens, closes = self.session(candidate)
                if after < closes:
                    return max(opens, after)
        raise ValueError(f"no trading day within a year after {after} for {sorted(areas)}")


class OpenSpans:
    """The calendar's open-or-closed answer for a set of areas (or one area), kept until the
    instant it can change (a close, the next open): asked every poll and for every RFQ, it
    changes twice a day."""

    __slots__ = ("_calendar", "_spans")

    def __init__(self, calendar: TradingCalendar) -> None:
        self._calendar = calendar
        # By areas (or area): (from, until, open); the answer holds for from <= t < until.
        # `until` in UTC, the clock's zone: comparing across zones asks Berlin's offset.
        self._spans: dict[frozenset[str] | str, tuple[datetime, datetime, bool]] = {}

    def any_open(self, areas: frozenset[str], now: datetime) -> bool:
        """`calendar.open_span(areas, now)[0]`."""
        span = self._spans.get(areas)
        if span is None or not span[0] <= now < span[1]:
            is_open, until = self._calendar.open_span(areas, now)
            span = self._spans[areas] = (now, until.astimezone(UTC), is_open)
        return span[2]

    def is_open(self, area: str, now: datetime) -> bool:
        """`calendar.is_open(area, now)`."""
        span = self._spans.get(area)
        if span is None or not span[0] <= now < span[1]:
            is_open, until = self._calendar.open_span(frozenset((area,)), now)
            span = self._spans[area] = (now, until.astimezone(UTC), is_open)
        return span[2]
