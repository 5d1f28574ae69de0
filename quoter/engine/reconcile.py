"""Reconciliation before quoting: the desk's positions from our trades at the venue, then our
quotes live at the venue adopted or withdrawn by policy; quoting starts only when the venue's
view and ours agree."""

from __future__ import annotations

import asyncio
import logging
from typing import NoReturn

from quoter.audit import events
from quoter.clock import Clock
from quoter.domain import Quote, QuoteStatus, Rfq
from quoter.engine.desk import Desk
from quoter.engine.halt import Halt
from quoter.engine.health import LEDGER_LOOK_S, ledger_failsafe
from quoter.engine.positions import read_positions, record_read
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.state import EngineDeps
from quoter.engine.withdraw import Withdrawer, everything
from quoter.pricing.delivery import delivery_of
from quoter.pricing.reasons import Decline
from quoter.risk.checks import Proposal, RiskVerdict, check_exposure
from quoter.venue import errors
from quoter.venue.paging import Paged

START_RETRY_FIRST_S = 0.5
START_RETRY_MAX_S = 30.0

log = logging.getLogger(__name__)


class StartRefused(Exception):
    """The venue refused the start for good (credentials, quota): the message says why."""


async def reconcile_at_start(
    deps: EngineDeps, desk: Desk, halt: Halt, withdrawer: Withdrawer, stop: asyncio.Event
) -> bool:
    """Reconcile before quoting; False if `stop` was set first. The venue's bad minute (5xx,
    timeouts, 429s, a garbled answer) is waited out with backoff, each try from scratch; a
    start the venue refuses for good (credentials, quota) halts saying why (StartRefused): it
    is not a crash of the engine."""
    pause_s = START_RETRY_FIRST_S
    swept = False
    while True:
        try:
            await Reconciler(deps, desk, halt, withdrawer).run()
            return True
        except (errors.RetrySafe, errors.MalformedResponse) as error:
            what = f"{type(error).__name__}: {error}"
            log.warning("start: %s; trying again in %.1f s", what, pause_s)
            desk.stats.venue_errors[type(error).__name__] += 1
            retried = events.StartRetried(error=what, retry_in_s=pause_s)
            deps.audit.write(retried, deps.clock.now())
            desk.reset(deps.risk)  # the next try reads trades and quotes anew: nothing twice
            if not await _nap_unless_stopped(deps.clock, pause_s, stop):
                return False
            pause_s = min(pause_s * 2, START_RETRY_MAX_S)
        except errors.GuardRefused as error:
            if not ledger_failsafe(deps.venue, deps.killswitch):
                _refuse_start(halt, error)
            if not swept:  # reads are refused, withdrawals not: what is live goes, once
                log.warning("start: waiting for the quota ledger: %s", error)
                desk.reset(deps.risk)
                await withdrawer.sweep("quota ledger fail-safe", everything)
                swept = True
            if not await _nap_unless_stopped(deps.clock, LEDGER_LOOK_S, stop):
                return False
        except errors.VenueError as error:
            _refuse_start(halt, error)


def _refuse_start(halt: Halt, error: errors.VenueError) -> NoReturn:
    reason = f"start failed: {type(error).__name__}: {error}"
    halt.auto_kill(reason)
    raise StartRefused(reason) from error


async def _nap_unless_stopped(clock: Clock, seconds: float, stop: asyncio.Event) -> bool:
    """Sleep `seconds`; False if `stop` was set meanwhile."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        stopper.cancel()
    return not stop.is_set()


class Reconciler:
    def __init__(self, deps: EngineDeps, desk: Desk, halt: Halt, withdrawer: Withdrawer) -> None:
        self._deps = deps
        self._desk = desk
        self._halt = halt
        self._withdrawer = withdrawer

    async def run(self) -> None:
        """Before quoting: read our live quotes at the venue, adopt or withdraw them by policy,
        and quote only once the venue's view and ours agree."""
        deps, desk = self._deps, self._desk
        read = await read_positions(deps)
        record_read(deps, desk, read)
        live = await self._venue_live_quotes()
        # A book short of trades cannot say what a live quote adds to it: none is adopted.
        adopt = deps.config.quoting.reconcile == "adopt" and read.complete
        refused: dict[str, str] = {}  # RFQ id: the limits its quote is beyond
        for quote in live:
            rfq = await deps.venue.get_rfq(quote.rfq_id)
            mine = _adopted(quote, rfq, desk.strategy.name)
            desk.quotes.sending(mine)
            if not adopt:
                continue
            verdict = await self._reserve_adopted(quote, rfq)
            if verdict is None:
                adopt = False  # one we cannot account for: withdraw them all
            elif not verdict.passed:
                refused[rfq.id] = "; ".join(f"{r.code}: {r.detail}" for r in verdict.failures)
        if not adopt:
            await self._withdrawer.sweep("reconcile", everything)
        elif refused:
            await self._withdrawer.sweep(
                "reconcile: beyond the limits", lambda q: q.rfq.id in refused
            )
        at_venue = {q.id for q in await self._venue_live_quotes()}
        ours = {q.quote_id for q in desk.quotes if q.state is QuoteState.LIVE}
        if at_venue != ours:
            self._halt.auto_kill(
                f"reconciliation: {len(at_venue)} live at the venue, {len(ours)} ours"
            )
        reconciled = events.Reconciled(
            found_live=len(live),
            adopted=len(ours),
            policy=deps.config.quoting.reconcile,
            refused=refused,
        )
        deps.audit.write(reconciled, deps.clock.now())

    async def _reserve_adopted(self, quote: Quote, rfq: Rfq) -> RiskVerdict | None:
        """Count a quote found live against the limits, as if just sent, and whether it is within
        those on exposure; None if its delivery cannot be accounted for."""
        deps, desk = self._deps, self._desk
        shape = await deps.venue.get_load_shape(rfq.id) if rfq.shape_ref else None
        delivery = delivery_of(rfq, shape)
        if isinstance(delivery, Decline):
            return None
        prices = _prices(quote)
        proposal = Proposal(
            rfq=rfq,
            prices=prices,
            mid=sum(prices) / len(prices),
            energy_mwh=delivery.energy_mwh,
            buckets_mwh=dict(delivery.buckets()),
        )
        now_s = deps.clock.monotonic()
        verdict = check_exposure(
            deps.risk, desk.book.view(proposal, now_s=now_s, curve_age_s=0.0), proposal
        )
        # Counted either way: one refused stays live until its withdrawal lands, and a fill
        # meanwhile must find its reservation.
        desk.book.reserve(proposal, now_s)
        return verdict

    async def _venue_live_quotes(self) -> list[Quote]:
        venue = self._deps.venue
        found: list[Quote] = []
        async for page in Paged(
            lambda limit, skip: venue.list_quotes(
                status=QuoteStatus.ACTIVE, limit=limit, skip=skip
            ),
            limit=100,
            max_pages=self._deps.config.quoting.max_pages_per_poll,
            what="list_quotes",
        ):
            found.extend(page.items)
        return found


def _prices(quote: Quote) -> tuple[float, ...]:
    return tuple(p.value for p in (quote.price, quote.bid, quote.ask) if p is not None)


def _adopted(quote: Quote, rfq: Rfq, strategy: str) -> OurQuote:
    prices = _prices(quote)
    return OurQuote(
        rfq=rfq,
        client_quote_id=quote.client_quote_id,
        prices=prices,
        mid=sum(prices) / len(prices),
        strategy=strategy,
        valid_until=quote.valid_until,
        sent_at=quote.created_at,
        state=QuoteState.LIVE,
        quote_id=quote.id,
    )
