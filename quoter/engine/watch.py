"""Watching the venue: one poll of `GET /rfqs?updated-since=` sees new RFQs and the end of old
ones; outcomes become fills or releases; quotes whose submit went unanswered are resolved by
reading our quotes, never by sending again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from quoter.audit import events
from quoter.domain import Action, MyQuoteStatus, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.engine.answers import VenueAnswers
from quoter.engine.audit import AuditError
from quoter.engine.desk import Desk, EndedRfq, Version
from quoter.engine.halt import Halt, must_withdraw
from quoter.engine.quotes import LOOK_FIRST, LOOK_MAX, UNKNOWN_GRACE, OurQuote, QuoteState
from quoter.engine.state import EngineDeps
from quoter.pricing.delivery import DeliveryBucket
from quoter.risk.book import Fill
from quoter.risk.checks import bucket_name
from quoter.trades.rows import TradeFileError
from quoter.venue import errors
from quoter.venue.paging import Paged

log = logging.getLogger(__name__)

# updated-since is inclusive and clocks differ: look back a little and skip what was seen.
CURSOR_OVERLAP = timedelta(seconds=1)
# An RFQ is forgotten this long after its quote deadline: one whose end was never seen, and
# one seen ended (kept so that a later listing saying it is open is refused, not quoted).
FORGET_AFTER = timedelta(hours=1)
PRUNE_EVERY = timedelta(minutes=1)


class Watcher:
    def __init__(self, deps: EngineDeps, desk: Desk, halt: Halt, answers: VenueAnswers) -> None:
        self._deps = deps
        self._desk = desk
        self._halt = halt
        self._answers = answers
        self._awaiting_trade: dict[str, OurQuote] = {}
        self._carried: list[Rfq] = []  # taken in by a poll that then failed: priced next time
        self._looks = Lookups()  # when each possibly-live quote is looked for next
        # Before the start's reconciliation: the polls after the first read every change since,
        # the end of an RFQ whose quote was adopted included, even if it ended before the first.
        self._started = deps.clock.now()
        self._next_prune = datetime.min.replace(tzinfo=UTC)
        # The frequent records, built only if the audit keeps them (a replay's does not).
        self._keeps_seen = deps.audit.keeps(events.RfqSeen)
        self._keeps_outcome = deps.audit.keeps(events.Outcome)
        self._keeps_fill = deps.audit.keeps(events.Filled)

    async def poll(self) -> list[Rfq]:
        """One poll (paged, bounded); returns the RFQs to price now, oldest first.

        The first poll of a run reads every open RFQ (the venue lists them newest first, so a
        cut would leave the oldest, nearest their deadlines, unseen for good); later polls read
        the changes since the cursor (at the latest, the run's start), oldest first, and a poll
        cut short goes on from where it stopped. The cursor moves only once a poll has read all
        its pages."""
        deps, desk = self._deps, self._desk
        config = deps.config.quoting
        since = None if desk.cursor is None else desk.cursor - CURSOR_OVERLAP
        status = RfqStatus.OPEN if since is None else None
        pages = config.max_pages_per_poll if since is not None else config.max_pages_at_start
        to_price, self._carried = self._carried, []
        try:
            await self._read_pages(pages, since, status, to_price)
            if self._awaiting_trade:
                await self._capture_trades()
        except errors.VenueError:
            # What was taken in is seen: a later poll would pass it over. Price it then.
            self._carried = to_price
            raise
        self._prune()
        return to_price

    async def _read_pages(
        self,
        pages: int,
        since: datetime | None,
        status: RfqStatus | None,
        to_price: list[Rfq],
    ) -> None:
        """Read up to `pages` pages into `to_price`; the cursor moves once all are read."""
        deps, desk = self._deps, self._desk
        config = deps.config.quoting
        cursor = desk.cursor
        paged = Paged(
            lambda limit, skip: deps.venue.list_rfqs(
                status=status, updated_since=since, limit=limit, skip=skip
            ),
            limit=config.page_limit,
            max_pages=pages,
            what="list_rfqs",
        )
        async for page in paged:
            for rejected in page.rejected:
                desk.stats.rfqs_malformed += 1
                self._audit(
                    events.RfqRefused(
                        index=rejected.index, rfq_id=rejected.item_id, reason=rejected.reason
                    )
                )
            received_at = deps.clock.now()
            # The cursor never passes our clock: an RFQ stamped ahead of it (a venue's clock, a
            # bad row a day ahead) would move it there, and every RFQ and fill changed before
            # then would go unseen. Held back, it costs re-reading rows a later poll has seen.
            for rfq in page.items:
                at = min(rfq.updated_at, received_at)
                if cursor is None or at > cursor:
                    cursor = at
                if rfq.updated_at > received_at:
                    self._answers.rfq_seen(rfq.updated_at, received_at)
                if self._on_rfq(rfq):
                    to_price.append(rfq)
        if since is None:  # the first poll read what is open; what changed since start follows
            if not paged.complete:
                self._start_cut_short(pages * config.page_limit)
            cursor = self._started if cursor is None else min(cursor, self._started)
        desk.cursor = cursor

    def _start_cut_short(self, read: int) -> None:
        """More RFQs are open than a start reads: the oldest of them stay unseen until they
        change. Said once, loudly: max_pages_at_start is too small for this venue."""
        log.error("%d or more RFQs are open: the oldest are not read (max_pages_at_start)", read)
        self._audit(events.StartCutShort(read=read))

    def _prune(self) -> None:
        """Forget RFQs long past their deadline, whose end we never saw or saw, so state stays
        bounded; at most once a minute, since it looks at every RFQ remembered."""
        deps, desk = self._deps, self._desk
        now = deps.clock.now()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        horizon = now - FORGET_AFTER
        for record in desk.rfqs:
            rfq_id = record.rfq.id
            if record.rfq.quote_deadline < horizon:
                desk.rfqs.forget(rfq_id)
                if desk.quotes.remove(rfq_id) is not None:
                    desk.book.release(rfq_id)  # expired with its RFQ's deadline
        desk.rfqs.forget_ended(horizon)

    async def _capture_trades(self) -> None:
        """A won two-way quote: the trade says which side we took and at what price."""
        deps = self._deps
        since = min(q.sent_at for q in self._awaiting_trade.values())
        page = await deps.venue.list_trades(traded_from=since, limit=100)
        for trade in page.items:
            mine = self._awaiting_trade.pop(trade.rfq_id, None)
            if mine is not None:
                self._fill(mine, trade.action, trade.price.value, trade)

    def _on_rfq(self, rfq: Rfq) -> bool:
        """Take in one RFQ; whether it should be priced now."""
        deps, desk = self._deps, self._desk
        version = (rfq.updated_at, rfq.status, rfq.my_quote_status)
        record = desk.rfqs.get(rfq.id)
        if record is not None and record.version == version:
            return False
        if rfq.status is not RfqStatus.OPEN:
            self._close(rfq)
            return False
        if record is None:
            ended = desk.rfqs.ended(rfq.id)
            if ended is not None:
                self._reopened(rfq, ended, version)
                return False
            desk.rfqs.add(rfq, version, deps.clock.monotonic())
            desk.stats.rfqs_seen += 1
            if self._keeps_seen:
                self._audit(events.RfqSeen(rfq=_rfq_fields(rfq)))
            return True
        record.rfq, record.version = rfq, version
        mine = desk.quotes.get(rfq.id)
        if mine is None or mine.state not in _SETTLED_BY_THE_LISTING:
            return False  # none, or its answer is still to come: that settles it
        status = rfq.my_quote_status
        if status is MyQuoteStatus.EXPIRED:
            self._ended_live(mine)
            desk.stats.expired += 1
            # Our quote expired while the RFQ is open: requote if allowed (one being
            # withdrawn is not requoted: whoever withdrew it wanted it gone).
            return mine.state is QuoteState.LIVE
        if status is MyQuoteStatus.WITHDRAWN:
            # Withdrawn at the venue while the RFQ is open: by `quoter kill` while this bot
            # hung, a tool beside it, a person; or by our own withdrawal, answered not-active.
            # Gone either way: kept, it would count against the limits until the RFQ ends.
            self._ended_live(mine)
            desk.stats.withdrawn += 1
            self._audit(
                events.QuoteWithdrawal(
                    rfq_id=rfq.id,
                    why="seen on the RFQ's listing",
                    result="withdrawn at the venue",
                    quote_id=mine.quote_id or events.ABSENT,
                )
            )
        return False

    def _reopened(self, rfq: Rfq, ended: EndedRfq, version: Version) -> None:
        """The venue lists open an RFQ it listed ended (a venue bug, a replayed row): a bad
        answer, refused once per listing. Quoted, it would be sent a second time."""
        if ended.refused == version:
            return  # the same listing read again (the cursor's overlap)
        ended.refused = version
        self._desk.stats.rfqs_reopened += 1
        reason = (
            f"list_rfqs: RFQ {rfq.id} listed open after it ended {ended.status} "
            f"(status open, updated-at {rfq.updated_at.isoformat()}): refused, not quoted"
        )
        log.error("%s", reason)
        self._audit(
            events.RfqReopened(
                rfq_id=rfq.id,
                ended=ended.status,
                updated_at=rfq.updated_at.isoformat(),
                reason=reason,
            )
        )

    def _ended_live(self, mine: OurQuote) -> None:
        """Our quote on an RFQ still open ended at the venue: forgotten, its limits freed."""
        desk, rfq_id = self._desk, mine.rfq.id
        desk.quotes.remove(rfq_id)
        desk.book.release(rfq_id)
        self._looks.forget(mine.client_quote_id)

    def _close(self, rfq: Rfq) -> None:
        desk = self._desk
        desk.rfqs.end(rfq)
        mine = desk.quotes.remove(rfq.id)
        if mine is None:
            return
        self._looks.forget(mine.client_quote_id)
        if rfq.my_quote_status is MyQuoteStatus.WON:
            side = mine.rfq.our_side
            if side is None:
                self._awaiting_trade[rfq.id] = mine
            else:
                self._fill(mine, side, mine.prices[0])
        else:
            desk.book.release(rfq.id)
            if rfq.my_quote_status is MyQuoteStatus.LOST:
                desk.stats.lost += 1
        if self._keeps_outcome:
            self._audit(
                events.Outcome(
                    rfq_id=rfq.id,
                    status=rfq.status,
                    my_quote_status=rfq.my_quote_status,
                    client_quote_id=mine.client_quote_id,
                )
            )

    def _fill(self, mine: OurQuote, side: Action, price: float, trade: Trade | None = None) -> None:
        deps, desk = self._deps, self._desk
        moved = desk.book.record_fill(Fill(mine.rfq.id, side, price), deps.clock.monotonic())
        desk.stats.won += 1
        self._capture(mine, side, price, trade)
        if self._keeps_fill:
            self._audit(
                events.Filled(
                    rfq_id=mine.rfq.id, side=side, price=price, client_quote_id=mine.client_quote_id
                )
            )
        self._after_fill(moved, side)

    def _capture(self, mine: OurQuote, side: Action, price: float, trade: Trade | None) -> None:
        """Keep the desk's trade record as fills are learnt: the venue's trade when we have it,
        else a pending row its trade replaces on the next export."""
        recorder, stats = self._deps.trades, self._desk.stats
        if recorder is None:
            return
        try:
            quoted = mine.rfq.instrument  # its product: the venue's trade names none
            if trade is not None:
                recorder.record(trade, quoted)
            else:
                at, quote_id = self._deps.clock.now(), mine.quote_id or ""
                recorder.record_fill(mine.rfq.id, side, price, at, quote_id=quote_id, quoted=quoted)
        except TradeFileError as error:
            # The fill stands (the book, the trail): only the desk's copy of it is missing, and
            # the venue keeps the trade for `quoter trades export` once the file is fixed.
            stats.trade_capture_failures += 1
            stats.trade_capture_problem = str(error)
            log.error("fill on RFQ %s not written to the trade file: %s", mine.rfq.id, error)
            self._audit(events.TradeCaptureFailed(rfq_id=mine.rfq.id, error=str(error)))
        else:
            if not stats.trade_capture_failures:
                stats.trade_capture_problem = None  # said at the start, mended since

    def _after_fill(self, moved: tuple[DeliveryBucket, ...], side: Action) -> None:
        """A fill that takes a position beyond the limit kills. Only where it landed, and only
        a fill that grew it: a book loaded beyond a lowered limit is reported at start, and
        the pre-trade check lets only quotes that reduce it through (reduce-only)."""
        deps, desk = self._deps, self._desk
        positions, limit = desk.book.positions_mwh, deps.risk.max_position_mwh
        grew = side is Action.BUY
        breached = [b for b in moved if abs(positions[b]) > limit and (positions[b] > 0) is grew]
        if breached:
            self._halt.auto_kill(f"position limit breached in {bucket_name(breached[0])}")
        fills = desk.book.recent_fills(deps.clock.monotonic())
        if fills >= deps.risk.fill_throttle_count:
            self._halt.auto_kill(f"{fills} fills within {deps.risk.fill_throttle_window_s:.0f} s")

    async def resolve_unknown(self) -> None:
        """Read our quotes to learn whether unanswered submits went live. One the venue does
        not list yet stays possibly live (a request stored late is no rarer than one lost): it
        is looked for again with backoff until found, or until its valid-until has passed."""
        deps, desk = self._deps, self._desk
        waiting = self.forget_expired_unknown()
        if not waiting:
            return  # nearly every poll: nothing to look for
        now = deps.clock.now()
        if not any(self._looks.due(q.client_quote_id, now) for q in waiting):
            return
        since = min(q.sent_at for q in waiting) - CURSOR_OVERLAP
        found = {}
        async for page in Paged(
            lambda limit, skip: deps.venue.list_quotes(updated_since=since, limit=limit, skip=skip),
            limit=100,
            max_pages=deps.config.quoting.max_pages_per_poll,
            what="list_quotes",
        ):
            found.update({q.client_quote_id: q for q in page.items})
        for mine in waiting:
            venue_quote = found.get(mine.client_quote_id)
            if venue_quote is None:
                self._looks.missed(mine.client_quote_id, now)
                continue
            self._looks.forget(mine.client_quote_id)
            if venue_quote.status is QuoteStatus.ACTIVE:
                desk.stats.unknown_resolved["live"] += 1
                tracked = desk.quotes.confirmed(mine.rfq.id, venue_quote)
                if tracked is not None and must_withdraw(deps.killswitch, tracked):
                    desk.withdraw_wanted.set()  # killed while its outcome was unknown
            else:
                desk.stats.unknown_resolved["ended"] += 1
                desk.quotes.mark(mine.rfq.id, QuoteState.WITHDRAWING)  # the RFQ poll closes it
            self._audit(
                events.OutcomeResolved(
                    rfq_id=mine.rfq.id,
                    client_quote_id=mine.client_quote_id,
                    found=venue_quote.status,
                )
            )

    def forget_expired_unknown(self) -> list[OurQuote]:
        """The possibly-live quotes still waiting; those past their valid-until (and a margin
        for the venue's clock) are gone whatever became of them, and their limits freed."""
        deps, desk = self._deps, self._desk
        unknown = desk.quotes.unknown()
        if not unknown:
            return unknown
        now = deps.clock.now()
        waiting = []
        for mine in unknown:
            if now < mine.valid_until + UNKNOWN_GRACE:
                waiting.append(mine)
                continue
            desk.quotes.remove(mine.rfq.id)
            desk.book.release(mine.rfq.id)
            self._looks.forget(mine.client_quote_id)
            desk.stats.unknown_resolved["not-found"] += 1
            self._audit(
                events.OutcomeResolved(
                    rfq_id=mine.rfq.id, client_quote_id=mine.client_quote_id, found=None
                )
            )
        return waiting

    def _audit(self, event: events.Event) -> None:
        try:
            self._deps.audit.write(event, self._deps.clock.now())
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")


# Our quote's states an RFQ's listing settles (expired, withdrawn): one known live, or one
# whose withdrawal is under way (answered not-active: gone, its end is on the listing).
_SETTLED_BY_THE_LISTING = frozenset({QuoteState.LIVE, QuoteState.WITHDRAWING})


class Lookups:
    """When each possibly-live quote (by client-quote-id) is looked for next: at once, then
    after 0.5 s, 1 s, 2 s, ... up to LOOK_MAX; one read of our quotes serves all that are due."""

    def __init__(self) -> None:
        self._next: dict[str, tuple[datetime, int]] = {}

    def due(self, client_quote_id: str, now: datetime) -> bool:
        entry = self._next.get(client_quote_id)
        return entry is None or now >= entry[0]

    def missed(self, client_quote_id: str, now: datetime) -> None:
        misses = self._next.get(client_quote_id, (now, 0))[1] + 1
        pause = min(LOOK_FIRST * 2 ** (misses - 1), LOOK_MAX)
        self._next[client_quote_id] = (now + pause, misses)

    def forget(self, client_quote_id: str) -> None:
        self._next.pop(client_quote_id, None)


def _rfq_fields(rfq: Rfq) -> events.RfqFields:
    i = rfq.instrument
    return events.RfqFields(
        id=rfq.id,
        short_id=rfq.short_id,
        status=rfq.status,
        action=rfq.action,
        quote_type=rfq.quote_type,
        deadline=rfq.quote_deadline.isoformat(),
        requester=rfq.requester_id,
        commodity=i.commodity,
        market_area=i.market_area,
        load=i.load,
        product=i.product_type,
        label=i.product_label,
        start=i.start.isoformat(),
        end=i.end.isoformat(),
        quantity_mw=rfq.quantity_mw,
    )
