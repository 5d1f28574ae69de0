from datetime import UTC, date, datetime, timedelta

from quoter.engine.hours import OpenSpans, TradingCalendar, TradingHoursConfig

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


class CountingCalendar(TradingCalendar):
    asked = 0

    def open_span(self, areas: frozenset[str], at: datetime) -> tuple[bool, datetime]:
        self.asked += 1
        return super().open_span(areas, at)


def test_kept_open_spans_answer_as_the_calendar_at_every_instant_asking_it_twice_a_day() -> None:
    # Around German Unity Day (Friday 3 October 2025: DE closed, FR open) and a weekend.
    calendar = CountingCalendar(TradingHoursConfig())
    spans = OpenSpans(calendar)
    at, end = datetime(2025, 10, 1, 4, 0, tzinfo=UTC), datetime(2025, 10, 7, 4, 0, tzinfo=UTC)
    both, polls = frozenset({"DE", "FR"}), 0
    while at < end:
        for area in ("DE", "FR"):
            assert spans.is_open(area, at) == CAL.is_open(area, at), (area, at)
        assert spans.any_open(both, at) == CAL.open_span(both, at)[0], at
        at += timedelta(minutes=7, seconds=13)
        polls += 1
    assert polls > 1000
    assert calendar.asked <= 3 * 2 * 6  # per area and per set: an open and a close a day
