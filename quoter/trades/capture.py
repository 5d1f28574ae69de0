"""Pulling our trades from the venue: the trades endpoint, paged and bounded, within the usage
plan (the client's guard paces every page)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from quoter.domain.trading import Page, Trade
from quoter.venue.paging import Paged

PAGE_LIMIT = 100
MAX_PAGES = 200  # 20,000 trades a run: more means a narrower --since


class TradeSource(Protocol):
    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]: ...


class TooManyTrades(Exception):
    """More trades than one run may page through."""


async def fetch_trades(
    venue: TradeSource, since: datetime, until: datetime, *, page_limit: int = PAGE_LIMIT
) -> tuple[list[Trade], int]:
    """Every trade in [since, until], and how many items the venue sent malformed."""
    trades: list[Trade] = []
    rejected = 0
    paged = Paged(
        lambda limit, skip: venue.list_trades(
            traded_from=since, traded_to=until, limit=limit, skip=skip
        ),
        limit=page_limit,
        max_pages=MAX_PAGES,
        what="list_trades",
    )
    async for page in paged:
        trades.extend(page.items)
        rejected += len(page.rejected)
    if paged.complete:
        return trades, rejected
    raise TooManyTrades(f"more than {MAX_PAGES * page_limit} trades since {since.isoformat()}")
