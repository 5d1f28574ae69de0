"""When each RFQ of the simulated venue changed, in time order, for the contract's "updated
since" reads; bounded, as a long replay needs.

Past `limit` entries the older half is forgotten, cut between two distinct instants, never
inside a run of equal ones (a replay stamps a whole engine step with one instant): every entry
at or after `floor` is kept, so a read from the floor on is complete, and `since` says None for
an earlier one, which the venue then answers from its stored RFQs.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime


class ChangeLog:
    def __init__(self, limit: int) -> None:
        self._at: list[datetime] = []  # ascending
        self._ids: list[str] = []
        self._limit = limit
        self.floor: datetime | None = None  # changes before it were forgotten

    def __len__(self) -> int:
        return len(self._at)

    def add(self, at: datetime, rfq_id: str) -> None:
        """`rfq_id` changed at `at` (a change stamped in the past goes in its place)."""
        if self.floor is not None and at < self.floor:
            return  # a read that could want it is before the floor: answered without the log
        if self._at and at < self._at[-1]:
            i = bisect.bisect_right(self._at, at)
            self._at.insert(i, at)
            self._ids.insert(i, rfq_id)
        else:
            self._at.append(at)
            self._ids.append(rfq_id)
        if len(self._at) > self._limit:
            self._forget_older_half()

    def _forget_older_half(self) -> None:
        cut = bisect.bisect_right(self._at, self._at[len(self._at) // 2 - 1])
        if cut >= len(self._at):
            return  # all at one instant from the middle on: nothing can be cut cleanly
        del self._at[:cut], self._ids[:cut]
        self.floor = self._at[0]

    def since(self, since: datetime) -> Iterator[tuple[datetime, str]] | None:
        """(instant, RFQ id) of every change at or after `since`, oldest first; None when
        changes from then on may have been forgotten."""
        if self.floor is not None and since < self.floor:
            return None
        start = bisect.bisect_left(self._at, since)
        return zip(self._at[start:], self._ids[start:], strict=True)
