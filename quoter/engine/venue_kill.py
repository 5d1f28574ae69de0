"""Withdrawing our quotes at the venue in place of the bot: `quoter kill` when no bot answers,
and the dead-man's switch when the bot's heartbeat stops. The venue's list of our active quotes
is the truth (`quoter.engine.sweep`); a kill scoped to areas or products reads each listed
quote's RFQ to decide, and one it cannot read is withdrawn (a kill errs towards withdrawing).

The client takes the bot's own usage plan and quota ledger: the bot is hung or dead, so sends
nothing, and the day's count stays one count. A bot stopped (SIGSTOP) while it held the
ledger's lock would hold it for ever; then the kill counts its requests in a ledger of its own
beside it, and says so: the venue's own limit stays the backstop."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from quoter.clock import Clock
from quoter.domain import Quote, Rfq
from quoter.engine.killswitch import Scope
from quoter.engine.sweep import SweepResult, list_active, sweep
from quoter.venue import errors
from quoter.venue.config import VenueConfig, VenueCredentials
from quoter.venue.http import HttpVenue
from quoter.venue.port import Venue

LEDGER_WAIT_S = 0.3
LOCK_POLL_S = 0.01


@dataclass(frozen=True, slots=True)
class VenueKill:
    result: SweepResult
    notes: tuple[str, ...]  # for people: what the kill could not know, what it did instead

    def describe(self) -> str:
        return self.result.describe()


async def withdraw_at_venue(
    config: VenueConfig,
    credentials: VenueCredentials,
    clock: Clock,
    *,
    scope: Scope | None = None,
    timeout_s: float,
) -> VenueKill:
    """Every active quote of ours the venue lists within `scope`, withdrawn on the withdrawal
    lane; lists again until none is left or `timeout_s` has passed. Never raises a VenueError."""
    deadline = clock.monotonic() + timeout_s
    notes: list[str] = []
    async with venue_for_kill(config, credentials, clock, notes) as venue:
        covers = await scope_filter(venue, scope or Scope(), notes)
        left_s = max(0.0, deadline - clock.monotonic())
        result = await sweep(venue, clock, timeout_s=left_s, covers=covers)
    return VenueKill(result, tuple(notes))


@asynccontextmanager
async def venue_for_kill(
    config: VenueConfig, credentials: VenueCredentials, clock: Clock, notes: list[str]
) -> AsyncIterator[HttpVenue]:
    """A venue client on the bot's usage plan and quota ledger, or on a ledger of its own
    beside it if a process holds the bot's lock and does not let go (said in `notes`)."""
    ledger = config.usage_plan.ledger_path
    if not await lock_free(ledger.with_name(ledger.name + ".lock"), clock, LEDGER_WAIT_S):
        own = ledger.with_name(ledger.name + ".kill")
        notes.append(
            f"the quota ledger {ledger} is locked by a process that does not let go (a "
            f"stopped bot?): this kill's requests are counted in {own}"
        )
        plan = config.usage_plan.model_copy(update={"ledger_path": own})
        config = config.model_copy(update={"usage_plan": plan})
    async with HttpVenue.open(config, credentials, clock) as venue:
        yield venue


async def scope_filter(venue: Venue, scope: Scope, notes: list[str]) -> Callable[[Quote], bool]:
    """Which listed quotes the kill covers. The venue does not know which strategy made a
    quote: a kill naming strategies withdraws every quote in its areas and products."""
    if scope.strategies:
        notes.append(
            "the venue does not say which strategy made a quote: every quote in the kill's "
            "areas and products is withdrawn, whatever its strategy"
        )
    if not (scope.areas or scope.products):
        return lambda quote: True
    try:
        found, _, _ = await list_active(venue)
    except errors.VenueError as error:
        notes.append(f"our quotes could not be listed ({type(error).__name__}): none read")
        found = []
    rfq_ids = sorted({q.rfq_id for q in found})
    rfqs = await asyncio.gather(*(_read_rfq(venue, rfq_id) for rfq_id in rfq_ids))
    unread = sum(1 for rfq in rfqs if rfq is None)
    if unread:
        notes.append(f"{unread} RFQ(s) could not be read: their quotes are withdrawn too")
    covered = {rfq_id for rfq_id, rfq in zip(rfq_ids, rfqs, strict=True) if in_scope(scope, rfq)}
    return lambda quote: quote.rfq_id in covered


def in_scope(scope: Scope, rfq: Rfq | None) -> bool:
    """An RFQ the kill's areas and products cover; one not read (None) is covered."""
    if rfq is None:
        return True
    instrument = rfq.instrument
    return (not scope.areas or instrument.market_area in scope.areas) and (
        not scope.products or instrument.product_type.value in scope.products
    )


async def _read_rfq(venue: Venue, rfq_id: str) -> Rfq | None:
    try:
        return await venue.get_rfq(rfq_id)
    except errors.VenueError:
        return None


async def lock_free(path: Path, clock: Clock, wait_s: float) -> bool:
    """Whether the flock on `path` can be taken within `wait_s` (it is let go at once)."""
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return True  # no lock file to be held: the ledger's own errors say the rest
    try:
        deadline = clock.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if clock.monotonic() >= deadline:
                    return False
                await clock.sleep(LOCK_POLL_S)
            else:
                return True
    finally:
        os.close(handle)  # releases the lock if taken
