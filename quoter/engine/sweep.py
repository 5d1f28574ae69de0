"""A withdrawal sweep: the venue's list of our active quotes is the truth for what is live.
Every quote it lists in scope is withdrawn, concurrently, on the withdrawal lane, and the list
is read again, until it lists none in scope or the time is up.

Every withdrawal pass uses it: the engine's (a kill, the close of trading, shutdown), `quoter
kill` when no bot answers, and the dead-man's switch when the bot's heartbeat stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from quoter.clock import Clock, within
from quoter.domain import Quote, QuoteStatus
from quoter.domain.trading import RejectedItem
from quoter.venue import errors
from quoter.venue.paging import Paged
from quoter.venue.port import Venue

log = logging.getLogger(__name__)

PAGE_LIMIT = 100
MAX_PAGES = 50  # 5,000 active quotes: a day's whole quota
RETRY_PAUSE_S = 0.05
MAX_PAUSE_S = 2.0
# Refusals no retry within a sweep's time can change: the key or credentials, the day's quota.
HOPELESS = (errors.AuthenticationFailed, errors.QuotaExhausted)


class Withdrawal(StrEnum):
    WITHDRAWN = "withdrawn"
    NOT_ACTIVE = "not-active"  # gone before our request: expired, superseded or accepted
    FAILED = "failed"  # the venue did not confirm: listed again and retried


@dataclass(frozen=True, slots=True)
class SweepResult:
    withdrawn: tuple[Quote, ...]
    not_active: tuple[Quote, ...]
    left: tuple[Quote, ...]  # in scope at the last list that was read
    lists: int  # reads of the list, pages included
    complete: bool  # the last list read in full showed nothing in scope
    # Why the venue refuses every request, if it does (credentials, the day's quota): another
    # pass within minutes would be refused the same way.
    refused: str | None = None
    # Items of the last list that could not be read as quotes (set aside by the parser): the
    # venue lists them as ours and active, so they may be live; never "none live" then.
    unreadable: int = 0
    # Unreadable ones withdrawn by their ids (the quote's and its RFQ's), whatever the scope:
    # a quote the bot cannot read is one it cannot account for.
    unreadable_withdrawn: int = 0

    def describe(self) -> str:
        """One line for people: what the sweep did and whether it is sure."""
        text = f"{len(self.withdrawn)} withdrawn"
        if self.unreadable_withdrawn:
            text += f" and {self.unreadable_withdrawn} unreadable one(s) by id"
        if self.not_active:
            text += f", {len(self.not_active)} already inactive"
        if self.complete:
            return text + "; the venue lists none live"
        if self.unreadable:
            return text + (
                f"; {self.unreadable} quote(s) the venue lists as active could not be read: "
                "possibly live, check the venue"
            )
        if self.refused is not None:
            return text + f"; the venue refuses us ({self.refused})"
        if self.left:
            return text + f"; {len(self.left)} still listed live"
        return text + "; the venue's list could not be read to the end"


async def sweep(
    venue: Venue,
    clock: Clock,
    *,
    timeout_s: float,
    covers: Callable[[Quote], bool] = lambda quote: True,
    on_withdrawn: Callable[[Quote, Withdrawal], None] | None = None,
) -> SweepResult:
    """Withdraw every active quote the venue lists that `covers` accepts; list again until none
    is left or `timeout_s` has passed. Never raises a VenueError: a failed read or withdrawal
    is retried with backoff within the time, and the result says what is still unknown."""
    deadline = clock.monotonic() + timeout_s
    withdrawn: list[Quote] = []
    not_active: list[Quote] = []
    targets: list[Quote] = []
    strays_withdrawn, tried = 0, set()  # unreadable quotes withdrawn, and each one tried
    lists, failures, complete, unreadable = 0, 0, False, 0
    refused: str | None = None
    while True:
        listed = True
        try:
            listing = await within(clock, _left(clock, deadline), list_active(venue))
            if listing is None:  # the time ran out on a list in flight (a venue that hangs)
                lists += 1
                break
            found, pages, rejected = listing
        except errors.VenueError as error:
            lists += 1
            failures += 1
            listed = False
            log.warning("withdrawal sweep: listing our quotes failed (%s)", type(error).__name__)
            if isinstance(error, HOPELESS):
                refused = f"{type(error).__name__}: {error}"
                break  # the venue will refuse every request: waiting only delays the exit
        else:
            lists += pages
            targets = [q for q in found if covers(q)]
            unreadable = len(rejected)
            strays = [(r.rfq_id, r.item_id) for r in rejected if r.rfq_id and r.item_id]
            strays = [s for s in strays if s not in tried]  # one answered: not tried again
            if not targets and not strays:
                complete = not unreadable  # set-aside items may be live: not "none live"
                break
        if clock.monotonic() >= deadline:
            break
        if listed:
            ids = [(q.rfq_id, q.id) for q in targets] + strays
            outcomes = await _withdraw_within(venue, clock, ids, _left(clock, deadline))
            for stray, outcome in zip(strays, outcomes[len(targets) :], strict=True):
                if outcome is not Withdrawal.FAILED:
                    tried.add(stray)
                    strays_withdrawn += outcome is Withdrawal.WITHDRAWN
            for quote, outcome in zip(targets, outcomes, strict=False):
                if outcome is Withdrawal.WITHDRAWN:
                    withdrawn.append(quote)
                elif outcome is Withdrawal.NOT_ACTIVE:
                    not_active.append(quote)
                if on_withdrawn is not None and outcome is not Withdrawal.FAILED:
                    on_withdrawn(quote, outcome)
            if all(o is not Withdrawal.FAILED for o in outcomes):
                continue  # list again at once: the confirmation that nothing is left
            failures += 1
        await clock.sleep(min(RETRY_PAUSE_S * 2**failures, MAX_PAUSE_S, _left(clock, deadline)))
    return SweepResult(
        tuple(withdrawn),
        tuple(not_active),
        tuple(targets),
        lists,
        complete,
        refused,
        unreadable,
        strays_withdrawn,
    )


async def list_active(venue: Venue) -> tuple[list[Quote], int, list[RejectedItem]]:
    """Every quote the venue lists as ours and active, how many pages that took, and the
    listed items that could not be read as quotes (set aside: they may be live)."""
    found: list[Quote] = []
    paged = Paged(
        lambda limit, skip: venue.list_quotes(
            status=QuoteStatus.ACTIVE, limit=limit, skip=skip, for_withdrawal=True
        ),
        limit=PAGE_LIMIT,
        max_pages=MAX_PAGES,
        what="list_quotes",
    )
    unreadable: list[RejectedItem] = []
    async for page in paged:
        found.extend(q for q in page.items if q.status is QuoteStatus.ACTIVE)
        unreadable.extend(page.rejected)
    return found, paged.pages, unreadable


async def _withdraw_within(
    venue: Venue, clock: Clock, quotes: list[tuple[str, str]], seconds: float
) -> list[Withdrawal]:
    """Withdraw `quotes` (RFQ id, quote id) concurrently for at most `seconds` of `clock`: a
    withdrawal still unanswered then is cancelled and FAILED (its quote may be live)."""
    done: dict[int, Withdrawal] = {}

    async def one(index: int, quote: tuple[str, str]) -> None:
        done[index] = await _withdraw(venue, *quote)

    async def every() -> None:
        await asyncio.gather(*(one(n, q) for n, q in enumerate(quotes)))

    await within(clock, seconds, every())
    return [done.get(n, Withdrawal.FAILED) for n in range(len(quotes))]


async def _withdraw(venue: Venue, rfq_id: str, quote_id: str) -> Withdrawal:
    try:
        await venue.withdraw_quote(rfq_id, quote_id)
    except (errors.QuoteNotActive, errors.NotFound):
        return Withdrawal.NOT_ACTIVE
    except errors.VenueError as error:
        log.warning("withdrawal of quote %s failed (%s)", quote_id, type(error).__name__)
        return Withdrawal.FAILED
    return Withdrawal.WITHDRAWN


def _left(clock: Clock, deadline: float) -> float:
    return max(0.0, deadline - clock.monotonic())
