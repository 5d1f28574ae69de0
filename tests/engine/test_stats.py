"""The engine's running counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quoter.engine.stats import RecentShare


@given(st.integers(1, 20), st.lists(st.booleans(), max_size=120))
def test_the_share_is_of_exactly_the_last_outcomes(size: int, outcomes: list[bool]) -> None:
    share = RecentShare(size)
    for i, outcome in enumerate(outcomes):
        window = outcomes[max(0, i + 1 - size) : i + 1]
        assert share.add(outcome) == sum(window) / len(window)
        assert len(share) == len(window)
