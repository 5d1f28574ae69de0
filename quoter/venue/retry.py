"""When to try a venue call again, and how long to wait first.

Reads and withdrawals are retried on `RetrySafe` errors. A quote submit is retried only with the
same client-quote-id; once an attempt may have reached the venue (timeout, 5xx, gateway 504), any
later failure means the outcome is unknown and is reported as such, never resent with a new id.
A 429's `Retry-After` says how long nothing may be sent (`retry_after_s`; the guard holds it).
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from quoter.clock import Clock
from quoter.venue.errors import RetrySafe, SubmitOutcomeUnknown, VenueError, VenueUnavailable

T = TypeVar("T")

# A Retry-After we cannot read still asks for a pause: the least whole second it can have meant.
UNREADABLE_RETRY_AFTER_S = 1.0
MAX_SHOWN_CHARS = 40


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """The pause a 429's Retry-After asks for, bounded; `problem` says why it is not as sent."""

    hold_s: float
    problem: str | None = None


def retry_after_s(value: str | None, now: datetime, max_s: float) -> RetryAfter:
    """The pause `value` (delta-seconds, or an HTTP date) asks for, at most `max_s`; one that
    is neither, or past `max_s`, is bounded and named in `problem`."""
    if value is None:
        return RetryAfter(0.0)
    asked_s = _asked_s(value.strip(), now)
    shown = repr(value[:MAX_SHOWN_CHARS])
    if asked_s is None:
        hold_s = min(UNREADABLE_RETRY_AFTER_S, max_s)
        return RetryAfter(hold_s, f"Retry-After {shown} is neither seconds nor an HTTP date")
    if asked_s > max_s:
        return RetryAfter(max_s, f"Retry-After {shown} is past max_retry_after_s {max_s:g}")
    return RetryAfter(asked_s)


def _asked_s(text: str, now: datetime) -> float | None:
    if text.isascii() and text.isdigit():
        return float(text) if len(text) <= 12 else math.inf
    try:
        # A date without a zone cannot be compared (TypeError): unreadable too.
        return max(0.0, (parsedate_to_datetime(text) - now).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt k waits uniform(0, min(max, base * 2**k))."""

    base_s: float
    max_s: float

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_s, self.base_s * 2.0 ** min(attempt, 30))
        return rng.uniform(0.0, ceiling)


def may_have_landed(error: VenueError) -> bool:
    """True when a submit that failed this way may still have been stored by the venue."""
    return isinstance(error, VenueUnavailable)


async def retried(
    call: Callable[[], Awaitable[T]],
    *,
    retries: int,
    backoff: Backoff,
    clock: Clock,
    rng: random.Random,
    on_retry: Callable[[RetrySafe], None],
) -> T:
    """`call`, made again up to `retries` times while it fails with a RetrySafe error."""
    attempt = 0
    while True:
        try:
            return await call()
        except RetrySafe as error:
            if attempt >= retries:
                raise
            on_retry(error)
            await clock.sleep(backoff.delay_s(attempt, rng))
            attempt += 1


async def submitted(
    call: Callable[[], Awaitable[T]],
    *,
    client_quote_id: str,
    retries: int,
    backoff: Backoff,
    clock: Clock,
    rng: random.Random,
    on_retry: Callable[[RetrySafe], None],
) -> T:
    """A submit (`call` always sends the same client-quote-id), retried like a read; once an
    attempt may have landed, a failure of the last attempt becomes SubmitOutcomeUnknown."""
    landed = False
    attempt = 0
    while True:
        try:
            return await call()
        except RetrySafe as error:
            landed = landed or may_have_landed(error)
            if attempt >= retries:
                if landed:
                    raise _unknown(client_quote_id, error) from error
                raise
            on_retry(error)
            await clock.sleep(backoff.delay_s(attempt, rng))
            attempt += 1
        except VenueError as error:
            if landed:
                raise _unknown(client_quote_id, error) from error
            raise


def _unknown(client_quote_id: str, error: VenueError) -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown(
        f"quote {client_quote_id}: outcome unknown after {type(error).__name__} ({error}); "
        "read our quotes before quoting this RFQ again",
        client_quote_id=client_quote_id,
    )
