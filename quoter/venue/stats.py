"""Counters the venue client keeps for the engine and the metrics exporter.

Labels are bounded: lane (3 values), endpoint (the client's operations), status (an HTTP status
or one of a few transport outcomes). Never an RFQ or quote id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from quoter.basics.histogram import BucketCounts

# Outcomes of a request that got no HTTP status.
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection-error"
TOO_LARGE = "too-large"


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """A read-only copy of the counters at one moment."""

    requests: Mapping[tuple[str, str, str], int]
    rate_limited: int
    retry_after_unusable: int
    quota_exceeded: int
    retries: Mapping[str, int]
    reauths: int
    token_renewals: int
    token_expiry_refused: int
    authentications: int
    guard_waits: Mapping[str, int]
    guard_wait_s: Mapping[str, float]
    guard_refused: Mapping[str, int]
    malformed_items: Mapping[str, int]
    malformed_responses: Mapping[str, int]
    submit_outcome_unknown: int
    ledger_write_errors: int

    def requests_total(self) -> int:
        return sum(self.requests.values())

    def requests_by(self, *, lane: str | None = None, endpoint: str | None = None) -> int:
        return sum(
            n
            for (ln, ep, _), n in self.requests.items()
            if (lane is None or ln == lane) and (endpoint is None or ep == endpoint)
        )


@dataclass(slots=True)
class VenueStats:
    """Mutable counters, written by the client only; read them through `snapshot()`."""

    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rate_limited: int = 0
    retry_after_unusable: int = 0  # a 429's Retry-After neither seconds nor a date, or too long
    quota_exceeded: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    reauths: int = 0
    token_renewals: int = 0
    token_expiry_refused: int = 0  # authenticate answers whose expires-at had already passed
    authentications: int = 0
    guard_waits: Counter[str] = field(default_factory=Counter)
    guard_wait_s: dict[str, float] = field(default_factory=dict)
    guard_refused: Counter[str] = field(default_factory=Counter)
    malformed_items: Counter[str] = field(default_factory=Counter)
    malformed_responses: Counter[str] = field(default_factory=Counter)
    submit_outcome_unknown: int = 0
    ledger_write_errors: int = 0
    # Time of one exchange (token in hand to answer read), by endpoint and status: for metrics.
    request_s: dict[tuple[str, str], BucketCounts] = field(default_factory=dict)

    def count_request(
        self, lane: str, endpoint: str, status: int | str, seconds: float | None = None
    ) -> None:
        self.requests[(lane, endpoint, str(status))] += 1
        if seconds is not None:
            key = (endpoint, str(status))
            timing = self.request_s.get(key)
            if timing is None:
                timing = self.request_s[key] = BucketCounts()
            timing.observe(seconds)

    def count_wait(self, lane: str, seconds: float) -> None:
        self.guard_waits[lane] += 1
        self.guard_wait_s[lane] = self.guard_wait_s.get(lane, 0.0) + seconds

    def snapshot(self) -> StatsSnapshot:
        return StatsSnapshot(
            requests=MappingProxyType(dict(self.requests)),
            rate_limited=self.rate_limited,
            retry_after_unusable=self.retry_after_unusable,
            quota_exceeded=self.quota_exceeded,
            retries=MappingProxyType(dict(self.retries)),
            reauths=self.reauths,
            token_renewals=self.token_renewals,
            token_expiry_refused=self.token_expiry_refused,
            authentications=self.authentications,
            guard_waits=MappingProxyType(dict(self.guard_waits)),
            guard_wait_s=MappingProxyType(dict(self.guard_wait_s)),
            guard_refused=MappingProxyType(dict(self.guard_refused)),
            malformed_items=MappingProxyType(dict(self.malformed_items)),
            malformed_responses=MappingProxyType(dict(self.malformed_responses)),
            submit_outcome_unknown=self.submit_outcome_unknown,
            ledger_write_errors=self.ledger_write_errors,
        )
