"""The desk's positions and credit, rebuilt from our trades at the venue; and the hold while
that rebuild is incomplete.

The position and credit limits are only as good as the book they are checked against. A trade
the rebuild could not count (a trade the venue sent that does not parse, one whose delivery
cannot be valued, more trades than the pages read) leaves the book short of the desk's real
exposure, so the start does not quote on it: the condition `positions-incomplete` holds new
quotes (status, metrics and the QuoterPositionsIncomplete alert name it), live quotes found at
the start are withdrawn rather than adopted, and the trades are read again every
`RETRY_S` while nothing of ours is live. A complete read lifts the hold."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from quoter.audit import events
from quoter.domain import Action, Load
from quoter.engine.desk import Desk, empty_book
from quoter.engine.state import EngineDeps
from quoter.pricing.delivery import instrument_delivery
from quoter.pricing.reasons import Decline
from quoter.risk.book import RiskBook
from quoter.risk.checks import bucket_name
from quoter.venue import errors
from quoter.venue.paging import Paged

CONDITION = "positions-incomplete"
MAX_TRADE_PAGES = 50
RETRY_S = 60.0  # while incomplete, the trades are read again this often (when nothing is live)
SHOWN_GAPS = 3  # the condition's detail names this many of the trades it could not count

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PositionsRead:
    """One read of our trades: the book they make, and what could not be counted."""

    book: RiskBook
    since: datetime
    trades: int
    unreadable: tuple[str, ...]  # trades the venue sent that do not parse
    skipped: tuple[str, ...]  # trades whose delivery cannot be valued
    cut_short: bool  # more trades than MAX_TRADE_PAGES pages hold

    @property
    def complete(self) -> bool:
        return not (self.unreadable or self.skipped or self.cut_short)

    def gaps(self) -> str:
        """What the book is missing, in a line: the condition's detail."""
        missing = [*self.unreadable, *self.skipped]
        parts = []
        if missing:
            shown = "; ".join(missing[:SHOWN_GAPS])
            more = f" and {len(missing) - SHOWN_GAPS} more" if len(missing) > SHOWN_GAPS else ""
            parts.append(f"{len(missing)} trade(s) not counted ({shown}{more})")
        if self.cut_short:
            parts.append(f"more than {MAX_TRADE_PAGES} pages of trades since {self.since:%Y-%m-%d}")
        return "positions and credit read in part: " + ", ".join(parts)


async def read_positions(deps: EngineDeps) -> PositionsRead:
    """Our trades since `positions_since_days` ago, into a book of their own."""
    now = deps.clock.now()
    since = now - timedelta(days=deps.config.quoting.positions_since_days)
    book = empty_book(deps.risk)
    trades, unreadable, skipped = 0, [], []
    paged = Paged(
        lambda limit, skip: deps.venue.list_trades(traded_from=since, limit=limit, skip=skip),
        limit=100,
        max_pages=MAX_TRADE_PAGES,
        what="list_trades",
    )
    async for page in paged:
        for rejected in page.rejected:
            which = rejected.item_id or f"item {rejected.index} of page {paged.pages}, no id"
            unreadable.append(f"{which}: unreadable: {rejected.reason}")
        for trade in page.items:
            shape = None
            if trade.instrument.load is Load.CUSTOM:
                shape = await deps.venue.get_load_shape(trade.rfq_id)
            delivery = instrument_delivery(trade.instrument, trade.quantity_mw, shape)
            if isinstance(delivery, Decline):
                skipped.append(f"{trade.id}: {delivery.detail}")
                continue
            sign = 1.0 if trade.action is Action.BUY else -1.0
            book.add_trade(
                dict(delivery.buckets()), sign, trade.counterparty_name, trade.price.value
            )
            trades += 1
    book.settle(now)
    return PositionsRead(
        book, since, trades, tuple(unreadable), tuple(skipped), cut_short=not paged.complete
    )


def record_read(deps: EngineDeps, desk: Desk, read: PositionsRead) -> None:
    """Put `read`'s positions and credit in the desk's book, audit them, and hold or lift new
    quotes on whether the read was complete."""
    desk.book.take_trades(read.book)
    beyond = [bucket_name(b) for b in desk.book.beyond(deps.risk.max_position_mwh)]
    if beyond:
        # Not a kill: the pre-trade check quotes nothing there that ends beyond the limit
        # (reductions that still end beyond it included), and other months may trade.
        log.error("positions beyond max_position_mwh: %s", ", ".join(beyond))
    loaded = events.PositionsLoaded(
        trades=read.trades,
        skipped=read.skipped,
        unreadable=read.unreadable,
        since=read.since.isoformat(),
        credit_used_eur=desk.book.credit_used_eur,
        beyond_limit=tuple(beyond),
        complete=read.complete,
    )
    deps.audit.write(loaded, deps.clock.now())
    switch = deps.killswitch
    if not read.complete:
        detail = read.gaps()
        if switch.conditions.get(CONDITION) != detail:
            log.error("no new quotes: %s", detail)
        switch.set_condition(CONDITION, detail)
    elif switch.has_condition(CONDITION):
        switch.clear_condition(CONDITION)
        log.warning("positions and credit read whole again: quoting again")


class PositionsRetry:
    """While the start's rebuild was incomplete, read the trades again every RETRY_S, when
    nothing of ours is live or unanswered: a fill then would be counted by the read and by its
    capture, or by neither."""

    def __init__(self, deps: EngineDeps, desk: Desk) -> None:
        self._deps = deps
        self._desk = desk
        self._next_s = deps.clock.monotonic() + RETRY_S

    async def maybe(self) -> None:
        deps, desk = self._deps, self._desk
        if not deps.killswitch.has_condition(CONDITION) or len(desk.quotes):
            return
        if desk.book.quotes_open:  # reserved, though the quote book holds none: not yet
            return
        now_s = deps.clock.monotonic()
        if now_s < self._next_s:
            return
        self._next_s = now_s + RETRY_S
        try:
            read = await read_positions(deps)
        except errors.VenueError as error:
            log.warning("reading our trades again failed: %s: %s", type(error).__name__, error)
            return
        record_read(deps, desk, read)
