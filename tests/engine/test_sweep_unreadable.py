"""A withdrawal sweep never says "none live" while the venue lists quotes of ours as active
that cannot be read (a price as a string, a field missing): they may be live, and the kill,
the stop and the dead-man's switch say so instead of reporting a clean sweep."""

from __future__ import annotations

from datetime import UTC, datetime

from quoter.clock import ManualClock
from quoter.domain import Page, Quote
from quoter.domain.trading import RejectedItem
from quoter.engine.sweep import sweep
from tests.virtual_time import run_on_virtual_time


class UnreadableQuotes:
    """A venue listing two active quotes of ours that fail validation, and nothing else."""

    def __init__(self) -> None:
        self.withdrawals = 0

    async def list_quotes(self, **_: object) -> Page[Quote]:
        rejected = tuple(
            RejectedItem(n, f"q-{n}", "price.value: input should be a valid number")
            for n in range(2)
        )
        return Page((), 2, 100, 0, rejected)

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        self.withdrawals += 1


def test_a_sweep_with_unreadable_active_quotes_is_not_complete() -> None:
    venue = UnreadableQuotes()

    async def go(clock: ManualClock) -> None:
        result = await sweep(venue, clock, timeout_s=1.0)  # type: ignore[arg-type]
        assert not result.complete
        assert result.unreadable == 2
        said = result.describe()
        assert "none live" not in said
        assert "2 quote(s) the venue lists as active could not be read: possibly live" in said

    run_on_virtual_time(go, datetime(2026, 3, 2, 9, tzinfo=UTC))
