from datetime import UTC, date, datetime

from quoter.engine.hours import TradingCalendar, TradingHoursConfig

CAL = TradingCalendar(TradingHoursConfig())


def test_open_inside_hours_on_a_working_day() -> None:
    assert CAL.is_open("DE", datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # 10:00 Berlin
    assert not CAL.is_open("DE", datetime(2026, 11, 25, 17, 0, tzinfo=UTC))  # 18:00 Berlin
    assert not CAL.is_open("DE", datetime(2026, 11, 28, 9, 0, tzinfo=UTC))  # Saturday


def test_holidays_are_per_market_area() -> None:
    german_unity = datetime(2025, 10, 3, 9, 0, tzinfo=UTC)
    assert not CAL.is_open("DE", german_unity)
    assert not CAL.is_open("THE", german_unity)
    assert CAL.is_open("FR", german_unity)


def test_next_open_skips_weekends_and_holidays() -> None:
    friday_evening = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    opens = CAL.next_open(frozenset({"DE"}), friday_evening)
    assert opens.date() == date(2026, 12, 28)
    assert opens.hour == 8


def test_seconds_to_close() -> None:
    assert CAL.seconds_to_close(datetime(2026, 11, 25, 16, 0, tzinfo=UTC)) == 3600.0
    assert CAL.seconds_to_close(datetime(2026, 11, 25, 18, 0, tzinfo=UTC)) == 0.0
