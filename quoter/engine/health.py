"""The venue's health as the poll loop sees it: every poll is counted, and a lost
authentication, a spent quota, repeated 429s or too many failed polls halt quoting (a kill)."""

from __future__ import annotations

import logging
from collections import deque

from quoter.engine.state import EngineContext
from quoter.engine.stats import RecentShare
from quoter.venue import errors

log = logging.getLogger(__name__)

LEDGER_LOOK_S = 5.0  # in the quota ledger's fail-safe: how often to look whether it is over
LEDGER_CONDITION = "quota-ledger"
RATE_LIMITED_WINDOW_S = 60.0
MIN_POLLS_FOR_RATE = 10  # a failed first poll is not yet an error rate


def ledger_failsafe(ctx: EngineContext) -> bool:
    """The guard cannot trust its quota ledger: hold new quotes (a condition, so the status
    and the metrics say why) until it can."""
    why = ctx.quota.ledger_failsafe()
    if why is None:
        ctx.killswitch.clear_condition(LEDGER_CONDITION)
        return False
    ctx.killswitch.set_condition(LEDGER_CONDITION, why)
    return True


class VenueHealth:
    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._failed = RecentShare(ctx.config.kill.window)  # of the last polls
        self._rate_limited: deque[float] = deque(maxlen=64)

    def poll_succeeded(self) -> None:
        self._failed.add(False)

    def poll_failed(self, error: errors.VenueError) -> None:
        ctx = self._ctx
        ctx.stats.venue_errors[type(error).__name__] += 1
        log.warning("poll failed: %s: %s", type(error).__name__, error)
        if isinstance(error, errors.AuthenticationFailed):
            ctx.auto_kill(f"authentication failed: {error}")
        if isinstance(error, errors.QuotaExhausted):
            ctx.auto_kill(f"quota spent: {error}")
        # GuardRefused: the poll lane's allowance is spent. Not a kill (that would halt quoting
        # until a person resumes, and withdrawals keep their reserve): the plan says "poll
        # budget spent" and the loop waits for the close.
        if isinstance(error, errors.RateLimited):
            self._rate_limited_once()
        rate = self._failed.add(True)
        polls, window = len(self._failed), ctx.config.kill.window
        if polls >= min(window, MIN_POLLS_FOR_RATE) and rate > ctx.config.kill.max_venue_error_rate:
            ctx.auto_kill(f"venue error rate {round(rate * polls)}/{polls}")

    def _rate_limited_once(self) -> None:
        ctx = self._ctx
        now_s = ctx.clock.monotonic()
        self._rate_limited.append(now_s)
        within = sum(1 for t in self._rate_limited if now_s - t < RATE_LIMITED_WINDOW_S)
        if within >= ctx.config.kill.max_rate_limited:
            ctx.auto_kill(f"{within} rate-limit answers within a minute")
