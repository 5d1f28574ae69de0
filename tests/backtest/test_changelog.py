"""The simulated venue's change log: bounded, and complete for every read it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from quoter.backtest.changelog import ChangeLog

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 20)), max_size=200),
    st.integers(2, 12),
)
def test_a_read_it_answers_holds_every_change_since(
    steps: list[tuple[int, int, int]], limit: int
) -> None:
    """Instants move on by 0-3 s (runs of equal ones are common), some changes are stamped up
    to 5 s in the past; any read the log answers equals a scan of everything ever added."""
    log, added, now = ChangeLog(limit), [], T0
    for gap_s, back_s, rfq in steps:
        now += timedelta(seconds=gap_s)
        at = now - timedelta(seconds=back_s)
        log.add(at, f"r{rfq}")
        added.append((at, f"r{rfq}"))
        reads = [now + timedelta(seconds=s) for s in range(-8, 2)]
        for since in [*reads, *([log.floor] if log.floor else [])]:
            changes = log.since(since)
            if changes is None:
                assert log.floor is not None
                assert since < log.floor
                continue
            expected = sorted(c for c in added if c[0] >= since)
            assert sorted(changes) == expected


def test_it_forgets_between_two_instants_never_inside_a_run() -> None:
    log = ChangeLog(4)
    for i in range(3):
        log.add(T0, f"a{i}")  # one engine step: one instant
    for i in range(3):
        log.add(T0 + timedelta(seconds=1), f"b{i}")
    assert log.floor == T0 + timedelta(seconds=1)
    assert len(log) == 3
    assert log.since(T0) is None  # the run at T0 was forgotten whole: ask the store
    changes = log.since(T0 + timedelta(seconds=1))
    assert changes is not None
    assert [rfq for _, rfq in changes] == ["b0", "b1", "b2"]


def test_all_at_one_instant_is_kept_rather_than_cut() -> None:
    log = ChangeLog(4)
    for i in range(10):
        log.add(T0, f"a{i}")
    assert log.floor is None
    assert len(log) == 10
