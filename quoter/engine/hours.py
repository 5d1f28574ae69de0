"""Trading hours: when each market area may be quoted, with its country's public holidays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

from pydantic import Field

from quoter.domain.market import MARKET_TIMEZONE
from quoter.venue.config import Frozen

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


class TradingHoursConfig(Frozen):
    open_local: time = Field(time(8, 0), description="Europe/Berlin wall clock")
    close_local: time = Field(time(18, 0), description="Europe/Berlin wall clock")
    weekdays: frozenset[int] = Field(frozenset(range(5)), description="Monday is 0")
    observe_holidays: bool = True
    closed_dates: frozenset[date] = Field(frozenset(), description="extra days without trading")


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    # Imported here, not above: the configuration imports this module, and `quoter kill`
    # reads the configuration and must start fast; the tables cost tens of milliseconds.
    import holidays

    return frozenset(holidays.country_holidays(country, years=year))


class TradingCalendar:
    """Pure: answers for any instant; holds only a cache of holiday tables."""

    def __init__(self, config: TradingHoursConfig) -> None:
        if config.close_local <= config.open_local:
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
        return (
            datetime.combine(day, c.open_local, MARKET_TIMEZONE),
            datetime.combine(day, c.close_local, MARKET_TIMEZONE),
        )

    def is_open(self, area: str, at: datetime) -> bool:
        day = at.astimezone(MARKET_TIMEZONE).date()
        opens, closes = self.session(day)
        return self.is_trading_day(area, day) and opens <= at < closes

    def seconds_to_close(self, at: datetime) -> float:
        """Seconds until today's close, 0 after it."""
        _, closes = self.session(at.astimezone(MARKET_TIMEZONE).date())
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
