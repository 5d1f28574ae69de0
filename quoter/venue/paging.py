"""Reading a list endpoint page by page with `limit`/`skip`: the one paging loop every caller
(the RFQ poll, reconciliation, the sweep, trade capture, the recorder) goes through.

The next page starts after the entries served (malformed ones counted), not after `limit`: a
venue may serve fewer than asked per page (the contract assumes a maximum of 100; one that caps
at 50 says so in its `limit`, or not at all). The end is an empty page, or a page short of the
venue's own page size (the smaller of the `limit` asked and the one it answered) with no
`total` saying more are left. A `total` the venue sends that says more are left is read on
until an empty page, within `max_pages`: an item left unread (an open RFQ, a trade in the
position rebuild) is the dangerous case, one empty page the cost of a total that is wrong.
Without a `total` (it is optional; the parser then fills in what was seen) a short page ends
it. A venue that does not advance (it echoes another `skip`, or serves the previous page again)
is refused with MalformedResponse rather than read forever."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from quoter.domain.trading import Page
from quoter.venue.errors import MalformedResponse

T = TypeVar("T")

ReadPage = Callable[[int, int], Awaitable[Page[T]]]  # (limit, skip) -> one page


class Paged(Generic[T]):
    """`async for page in Paged(read, limit=100, max_pages=50, what="list_quotes")`: the pages,
    up to `max_pages` (None: the caller bounds it, as the recorder's request budget does).
    After the loop, `complete` says whether the last page was reached and `pages` how many
    were read."""

    def __init__(self, read: ReadPage[T], *, limit: int, max_pages: int | None, what: str) -> None:
        if limit < 1 or (max_pages is not None and max_pages < 1):
            raise ValueError(f"{what}: limit and max_pages must be at least 1")
        self._read = read
        self._limit = limit
        self._max_pages = max_pages
        self._what = what
        self._previous: Page[T] | None = None
        self._skip = 0  # the entries served so far
        self.pages = 0
        self.complete = False

    def __aiter__(self) -> Paged[T]:
        return self

    async def __anext__(self) -> Page[T]:
        if self.complete or (self._max_pages is not None and self.pages >= self._max_pages):
            raise StopAsyncIteration
        skip = self._skip
        page = await self._read(self._limit, skip)
        self._check_advances(page, skip)
        served = len(page.items) + len(page.rejected)
        self.pages += 1
        self._previous = page
        self._skip = skip + served
        page_size = min(self._limit, page.limit) if page.limit >= 1 else self._limit
        self.complete = served == 0 or (served < page_size and page.total <= self._skip)
        return page

    def _check_advances(self, page: Page[T], skip: int) -> None:
        if page.skip != skip:
            raise MalformedResponse(
                f"asked for skip {skip}, the venue answered skip {page.skip}: "
                "it does not page, and reading on would repeat the same items",
                endpoint=self._what,
                field="skip",
            )
        previous = self._previous
        if (
            previous is not None
            and (page.items or page.rejected)
            and (page.items, page.rejected) == (previous.items, previous.rejected)
        ):
            raise MalformedResponse(
                f"the page at skip {skip} repeats the page before it: "
                "the venue ignores skip, and reading on would never end",
                endpoint=self._what,
                field="items",
            )
