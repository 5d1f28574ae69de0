"""The one paging loop: it reads until a short page (short of the venue's own page size, with
no total saying more), stops at `max_pages` saying so, and refuses a venue whose pages do not
advance. Pure against a list; then against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoter.domain import RfqStatus
from quoter.domain.trading import Page
from quoter.sandbox.server import RunningSandbox
from quoter.venue.errors import MalformedResponse
from quoter.venue.paging import Paged
from tests.venue.contract import client, new_rfq


class Listing:
    """A venue's list in memory; `total`, the echoed `skip` and skip itself can be made to lie."""

    def __init__(
        self,
        n: int,
        *,
        total: int | None = None,
        echo_skip: int | None = None,
        stuck: bool = False,
        cap: int | None = None,
        says_cap: bool = True,
        has_total: bool = True,
    ) -> None:
        self.items = [f"item-{i}" for i in range(n)]
        self.total = n if total is None else total
        self.echo_skip = echo_skip
        self.stuck = stuck
        self.cap = cap  # the most a page holds, whatever is asked
        self.says_cap = says_cap  # whether the answer's limit is the cap or the limit asked
        self.has_total = has_total  # without: what was seen, as the parser fills it in
        self.asked: list[tuple[int, int]] = []

    async def read(self, limit: int, skip: int) -> Page[str]:
        self.asked.append((limit, skip))
        start = 0 if self.stuck else skip
        shown = skip if self.echo_skip is None else self.echo_skip
        size = limit if self.cap is None else min(limit, self.cap)
        answered = size if self.says_cap else limit
        items = tuple(self.items[start : start + size])
        total = self.total if self.has_total else skip + len(items)
        return Page(items, total, answered, shown)


async def _read_all(paged: Paged[str]) -> list[str]:
    return [item async for page in paged for item in page.items]


async def test_an_empty_list_is_one_request_and_complete() -> None:
    listing = Listing(0)
    paged = Paged(listing.read, limit=3, max_pages=5, what="list_rfqs")
    assert await _read_all(paged) == []
    assert (paged.complete, paged.pages, listing.asked) == (True, 1, [(3, 0)])


async def test_pages_are_read_until_a_short_one() -> None:
    listing = Listing(7)
    paged = Paged(listing.read, limit=3, max_pages=5, what="list_rfqs")
    assert await _read_all(paged) == listing.items
    assert (paged.complete, paged.pages, listing.asked) == (True, 3, [(3, 0), (3, 3), (3, 6)])


async def test_an_exact_multiple_of_the_limit_ends_on_an_empty_page() -> None:
    listing = Listing(6)
    paged = Paged(listing.read, limit=3, max_pages=5, what="list_rfqs")
    assert await _read_all(paged) == listing.items
    assert (paged.complete, [skip for _, skip in listing.asked]) == (True, [0, 3, 6])


@pytest.mark.parametrize(("total", "asked"), [(2, 3), (100, 4)])
async def test_a_lying_total_neither_cuts_the_list_short_nor_runs_it_on(
    total: int, asked: int
) -> None:
    # Too low: full pages read on regardless. Too high: read on past the short page, to the
    # empty one, and no further (an unread item is the danger, one empty page the cost).
    listing = Listing(7, total=total)
    paged = Paged(listing.read, limit=3, max_pages=5, what="list_rfqs")
    assert await _read_all(paged) == listing.items
    assert (paged.complete, paged.pages) == (True, asked)


@pytest.mark.parametrize("says_cap", [True, False])
async def test_a_venue_serving_fewer_than_asked_per_page_is_read_whole(says_cap: bool) -> None:
    # It caps its pages at 2 where 3 were asked, saying so in its limit or not at all (its
    # total says how many there are): ended at its first page, the rest went unread.
    listing = Listing(7, cap=2, says_cap=says_cap)
    paged = Paged(listing.read, limit=3, max_pages=10, what="list_trades")
    assert await _read_all(paged) == listing.items
    assert paged.complete
    assert [skip for _, skip in listing.asked][:4] == [0, 2, 4, 6]


async def test_a_capped_venue_without_a_total_is_read_on_while_its_pages_are_full() -> None:
    listing = Listing(5, cap=2, has_total=False)  # it says its cap in its limit
    paged = Paged(listing.read, limit=3, max_pages=10, what="list_rfqs")
    assert await _read_all(paged) == listing.items
    assert (paged.complete, [skip for _, skip in listing.asked]) == (True, [0, 2, 4])


async def test_more_pages_than_allowed_stop_at_the_guard_and_say_so() -> None:
    listing = Listing(10)
    paged = Paged(listing.read, limit=3, max_pages=2, what="list_rfqs")
    assert await _read_all(paged) == listing.items[:6]
    assert (paged.complete, paged.pages, len(listing.asked)) == (False, 2, 2)


async def test_a_venue_serving_the_same_page_again_is_refused() -> None:
    listing = Listing(10, stuck=True)
    paged = Paged(listing.read, limit=3, max_pages=None, what="list_quotes")
    with pytest.raises(
        MalformedResponse, match=r"list_quotes: the page at skip 3 repeats the page before it"
    ):
        await _read_all(paged)
    assert len(listing.asked) == 2


async def test_a_venue_answering_another_skip_is_refused() -> None:
    listing = Listing(10, echo_skip=0)
    paged = Paged(listing.read, limit=3, max_pages=5, what="list_trades")
    with pytest.raises(
        MalformedResponse, match=r"list_trades: asked for skip 3, the venue answered skip 0"
    ):
        await _read_all(paged)


def test_a_limit_or_guard_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="list_rfqs: limit and max_pages must be at least 1"):
        Paged(Listing(1).read, limit=0, max_pages=1, what="list_rfqs")
    with pytest.raises(ValueError, match="list_rfqs: limit and max_pages must be at least 1"):
        Paged(Listing(1).read, limit=1, max_pages=0, what="list_rfqs")


@pytest.mark.parametrize(("n", "pages"), [(0, 1), (4, 3), (5, 3)])
async def test_the_sandbox_is_read_whole_over_http(
    sandbox: RunningSandbox, tmp_path: Path, n: int, pages: int
) -> None:
    ids = {await new_rfq(sandbox) for _ in range(n)}
    async with client(sandbox, tmp_path) as venue:
        paged = Paged(
            lambda limit, skip: venue.list_rfqs(status=RfqStatus.OPEN, limit=limit, skip=skip),
            limit=2,
            max_pages=10,
            what="list_rfqs",
        )
        found = {rfq.id async for page in paged for rfq in page.items}
    assert found == ids
    assert (paged.complete, paged.pages) == (True, pages)
