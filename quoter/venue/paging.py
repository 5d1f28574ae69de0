"""Reading a list endpoint page by page with `limit`/`skip`: the one paging loop every caller
(the RFQ poll, reconciliation, the sweep, trade capture, the recorder) goes through.

The end is the first short page (fewer entries than `limit`, malformed ones counted). `total`
does not end it: the contract makes it optional (the parser then fills in what was seen), and
on an `updated-since` list it moves between pages; a short page is the one signal both honest
venues and lying totals agree on. A venue that does not advance (it echoes another `skip`, or
serves the previous page again) is refused with MalformedResponse rather than read forever."""

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
        self.pages = 0
        self.complete = False

    def __aiter__(self) -> Paged[T]:
        return self

    async def __anext__(self) -> Page[T]:
        if self.complete or (self._max_pages is not None and self.pages >= self._max_pages):
            raise StopAsyncIteration
        skip = self.pages * self._limit
        page = await self._read(self._limit, skip)
        self._check_advances(page, skip)
        self.pages += 1
        self._previous = page
        self.complete = len(page.items) + len(page.rejected) < self._limit
        return page

    def _check_advances(self, page: Page[T], skip: int) -> None:
        if page.skip != skip:
            raise MalformedResponse(
                f"{self._what}: asked for skip {skip}, the venue answered skip {page.skip}: "
                "it does not page, and reading on would repeat the same items"
            )
        previous = self._previous
        if (
            previous is not None
            and (page.items or page.rejected)
            and (page.items, page.rejected) == (previous.items, previous.rejected)
        ):
            raise MalformedResponse(
                f"{self._what}: the page at skip {skip} repeats the page before it: "
                "the venue ignores skip, and reading on would never end"
            )
