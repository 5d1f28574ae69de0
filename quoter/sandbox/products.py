"""Delivery periods of the standard products, from day-ahead to the calendar year ahead.

Power delivers from local midnight (Europe/Berlin); gas in gas days from 06:00 local.
"""

from __future__ import annotations

from datetime import date, timedelta

from quoter.domain import Commodity, Instrument, Load, ProductType
from quoter.pricing.calendar import GAS_DAY_START_HOUR, local_midnight_utc

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
Period = tuple[date, date, str]


def _month_start(day: date, months_ahead: int) -> date:
    index = day.year * 12 + day.month - 1 + months_ahead
    return date(index // 12, index % 12 + 1, 1)


def _yy(day: date) -> str:
    return f"{day.year % 100:02d}"


def _day(today: date, ahead: int) -> Period:
    first = today + timedelta(days=ahead)
    return first, first + timedelta(days=1), f"Day {first.isoformat()}"


def _weekend(today: date) -> Period:
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    return saturday, saturday + timedelta(days=2), f"WE {saturday:%d.%m.}-{_yy(saturday)}"


def _week(today: date) -> Period:
    monday = today + timedelta(days=7 - today.weekday())
    return monday, monday + timedelta(days=7), f"Wk {monday.isocalendar().week:02d}-{_yy(monday)}"


def _balance_of_month(today: date) -> Period:
    first = today + timedelta(days=1)
    end = _month_start(first, 1)
    return first, end, f"BOM {_MONTHS[first.month - 1]}-{_yy(first)}"


def _month(today: date, ahead: int) -> Period:
    first = _month_start(today, ahead)
    return first, _month_start(first, 1), f"{_MONTHS[first.month - 1]}-{_yy(first)}"


def _quarter(today: date, ahead: int) -> Period:
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    first = _month_start(this_quarter, 3 * ahead)
    return first, _month_start(first, 3), f"Q{(first.month - 1) // 3 + 1}-{_yy(first)}"


def _season(today: date) -> Period:
    summer, winter = date(today.year, 4, 1), date(today.year, 10, 1)
    if today < summer:
        return summer, winter, f"Sum-{_yy(summer)}"
    if today < winter:
        return winter, date(today.year + 1, 4, 1), f"Win-{_yy(winter)}"
    summer = date(today.year + 1, 4, 1)
    return summer, date(today.year + 1, 10, 1), f"Sum-{_yy(summer)}"


def _gas_year(today: date) -> Period:
    year = today.year if today < date(today.year, 10, 1) else today.year + 1
    return date(year, 10, 1), date(year + 1, 10, 1), f"GY-{year % 100:02d}"


def _year(today: date) -> Period:
    first = date(today.year + 1, 1, 1)
    return first, date(today.year + 2, 1, 1), f"Cal-{_yy(first)}"


def period(product: ProductType, today: date, ahead: int = 1) -> Period:
    """First day, day after the last, and label of `product` as traded on local day `today`.
    `ahead` picks the day, month or quarter counted from today (1 = the next one)."""
    match product:
        case ProductType.DAY:
            return _day(today, ahead)
        case ProductType.WEEKEND:
            return _weekend(today)
        case ProductType.WEEK:
            return _week(today)
        case ProductType.BALANCE_OF_MONTH:
            return _balance_of_month(today)
        case ProductType.MONTH:
            return _month(today, ahead)
        case ProductType.QUARTER:
            return _quarter(today, ahead)
        case ProductType.SEASON:
            return _season(today)
        case ProductType.GAS_YEAR:
            return _gas_year(today)
        case ProductType.YEAR:
            return _year(today)
    raise ValueError(f"{product} has no standard delivery period")


def standard_instrument(
    commodity: Commodity, area: str, load: Load, product: ProductType, today: date, ahead: int = 1
) -> Instrument:
    first, end, label = period(product, today, ahead)
    hour = GAS_DAY_START_HOUR if commodity is Commodity.GAS else 0
    return Instrument(
        commodity=commodity,
        market_area=area,
        load=load,
        settlement="physical",
        start=local_midnight_utc(first, hour),
        end=local_midnight_utc(end, hour),
        product_type=product,
        product_label=label,
    )


def has_peak_hours(product: ProductType, today: date, ahead: int = 1) -> bool:
    """A weekend, or a day that falls on one, has no peak hours to deliver."""
    if product is ProductType.WEEKEND:
        return False
    if product is ProductType.DAY:
        return (today + timedelta(days=ahead)).weekday() < 5
    return True
