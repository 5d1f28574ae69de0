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


class UnreadableButAddressed:
    """A venue listing two active quotes of ours that fail validation but carry their ids and
    their RFQs' ids, until they are withdrawn; one refuses the withdrawal as not active."""

    def __init__(self) -> None:
        self.active = {("rfq-0", "q-0"), ("rfq-1", "q-1")}
        self.withdrawals: list[tuple[str, str]] = []

    async def list_quotes(self, **_: object) -> Page[Quote]:
        rejected = tuple(
            RejectedItem(n, quote_id, "price.value: input should be a valid number", rfq_id)
            for n, (rfq_id, quote_id) in enumerate(sorted(self.active))
        )
        return Page((), len(rejected), 100, 0, rejected)

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        self.withdrawals.append((rfq_id, quote_id))
        self.active.discard((rfq_id, quote_id))


def test_unreadable_active_quotes_with_their_ids_are_withdrawn_by_them() -> None:
    venue = UnreadableButAddressed()

    async def go(clock: ManualClock) -> None:
        # A scope covering nothing readable: an unreadable quote cannot be put in or out of it.
        result = await sweep(venue, clock, timeout_s=1.0, covers=lambda q: False)  # type: ignore[arg-type]
        assert sorted(venue.withdrawals) == [("rfq-0", "q-0"), ("rfq-1", "q-1")]
        assert result.complete  # the venue lists none active now
        assert result.unreadable_withdrawn == 2
        assert result.describe() == (
            "0 withdrawn and 2 unreadable one(s) by id; the venue lists none live"
        )

    run_on_virtual_time(go, datetime(2026, 3, 2, 9, tzinfo=UTC))


class AnsweredButKept(UnreadableButAddressed):
    """Says each withdrawal done, and lists the quote active all the same."""

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        self.withdrawals.append((rfq_id, quote_id))


def test_an_unreadable_quote_still_listed_after_its_withdrawal_is_not_tried_forever() -> None:
    venue = AnsweredButKept()

    async def go(clock: ManualClock) -> None:
        result = await sweep(venue, clock, timeout_s=1.0)  # type: ignore[arg-type]
        assert len(venue.withdrawals) == 2  # once each, then listed on: possibly live
        assert not result.complete
        assert "2 quote(s) the venue lists as active could not be read" in result.describe()

    run_on_virtual_time(go, datetime(2026, 3, 2, 9, tzinfo=UTC))
