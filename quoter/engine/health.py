"""The venue's health as the poll loop sees it: every poll is counted, and a lost
authentication, a spent quota, repeated 429s or too many failed polls halt quoting (a kill).

The 429s are the venue's answers as the client met them, in any lane and retries included: a
poll whose retries absorbed three 429s is three, not one failed poll or none."""

from __future__ import annotations

import logging

from quoter.engine.config import KillConfig
from quoter.engine.halt import Halt
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import QuotaView
from quoter.engine.stats import EngineStats, RecentShare
from quoter.venue import errors

log = logging.getLogger(__name__)

LEDGER_LOOK_S = 5.0  # in the quota ledger's fail-safe: how often to look whether it is over
LEDGER_CONDITION = "quota-ledger"
RATE_LIMITED_WINDOW_S = 60.0
MIN_POLLS_FOR_RATE = 10  # a failed first poll is not yet an error rate


def ledger_failsafe(quota: QuotaView, killswitch: KillSwitch) -> bool:
    """The guard cannot trust its quota ledger: hold new quotes (a condition, so the status
    and the metrics say why) until it can."""
    why = quota.ledger_failsafe()
    if why is None:
        killswitch.clear_condition(LEDGER_CONDITION)
        return False
    killswitch.set_condition(LEDGER_CONDITION, why)
    return True


class VenueHealth:
    def __init__(
        self, config: KillConfig, quota: QuotaView, stats: EngineStats, halt: Halt
    ) -> None:
        self._config = config
        self._quota = quota
        self._stats = stats
        self._halt = halt
        self._failed = RecentShare(config.window)  # of the last polls
        self._rate_limited_seen = 0  # the venue's 429s since the start, as last looked at

    def poll_succeeded(self) -> None:
        self._failed.add(False)
        self._look_at_rate_limits()

    def poll_failed(self, error: errors.VenueError) -> None:
        self._stats.venue_errors[type(error).__name__] += 1
        log.warning("poll failed: %s: %s", type(error).__name__, error)
        if isinstance(error, errors.AuthenticationFailed):
            self._halt.auto_kill(f"authentication failed: {error}")
        if isinstance(error, errors.QuotaExhausted):
            self._halt.auto_kill(f"quota spent: {error}")
        # GuardRefused: the poll lane's allowance is spent. Not a kill (that would halt quoting
        # until a person resumes, and withdrawals keep their reserve): the plan says "poll
        # budget spent" and the loop waits for the close.
        self._look_at_rate_limits()
        rate = self._failed.add(True)
        polls, window = len(self._failed), self._config.window
        if polls >= min(window, MIN_POLLS_FOR_RATE) and rate > self._config.max_venue_error_rate:
            self._halt.auto_kill(f"venue error rate {round(rate * polls)}/{polls}")

    def _look_at_rate_limits(self) -> None:
        """A kill once `max_rate_limited` 429s came within a minute, judged when a new one has
        come: a resume right after a kill is not undone by the same 429s."""
        total, within = self._quota.rate_limited_answers(RATE_LIMITED_WINDOW_S)
        if total == self._rate_limited_seen:
            return
        self._rate_limited_seen = total
        if within >= self._config.max_rate_limited:
            self._halt.auto_kill(f"{within} rate-limit answers within a minute")
