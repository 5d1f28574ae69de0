"""The venue client's metrics, read at scrape time: requests by lane, endpoint and status and
their time, 429s, retries, tokens, the rate limiter's waits, and the day's quota.

Labels are bounded: lane (3), endpoint (the client's operations), status (HTTP statuses and a
few transport outcomes).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from quoter.basics.usage import GuardState, Lane
from quoter.metrics.families import (
    counter,
    gauge,
    labelled_counter,
    labelled_gauge,
    labelled_histogram,
)
from quoter.venue.stats import VenueStats


def _by_lane(values: dict[str, int] | dict[str, float]) -> dict[str, float]:
    """Every lane, lower-cased, zero when never counted: series exist from the first scrape."""
    return {lane.name.lower(): float(values.get(lane.name, 0)) for lane in Lane}


def requests(stats: VenueStats) -> Iterator[Metric]:
    family = CounterMetricFamily(
        "quoter_venue_requests",
        "Requests sent to the venue, by lane, endpoint and status.",
        labels=["lane", "endpoint", "status"],
    )
    for (lane, endpoint, status), n in sorted(stats.requests.items()):
        family.add_metric([lane.lower(), endpoint, status], n)
    yield family
    yield labelled_histogram(
        "quoter_venue_request_seconds",
        "Time of one venue request, from sending to the answer read.",
        ("endpoint", "status"),
        list(stats.request_s.items()),
    )
    yield counter("quoter_venue_rate_limited", "429 Too Many Requests answers.", stats.rate_limited)
    yield counter(
        "quoter_venue_retry_after_unusable",
        "429 Retry-After values that were not seconds nor a date, or asked past the bound.",
        stats.retry_after_unusable,
    )
    yield counter(
        "quoter_venue_quota_exceeded",
        "429 Limit Exceeded answers (daily quota).",
        stats.quota_exceeded,
    )
    yield labelled_counter(
        "quoter_venue_retries", "Requests retried, by endpoint.", "endpoint", dict(stats.retries)
    )
    yield counter(
        "quoter_venue_token_renewals", "Access tokens renewed before expiry.", stats.token_renewals
    )
    yield counter(
        "quoter_venue_reauthentications", "Re-authentications after a 401.", stats.reauths
    )
    yield counter(
        "quoter_venue_token_expiry_refused",
        "Authenticate answers whose expires-at had passed when they came (not taken).",
        stats.token_expiry_refused,
    )
    yield counter("quoter_venue_authentications", "Authentication requests.", stats.authentications)
    yield labelled_counter(
        "quoter_venue_malformed_items",
        "Page items set aside as invalid, by endpoint.",
        "endpoint",
        dict(stats.malformed_items),
    )
    yield labelled_counter(
        "quoter_venue_malformed_responses",
        "Answers refused whole, by endpoint: not JSON, or a field not the contract's.",
        "endpoint",
        dict(stats.malformed_responses),
    )
    yield counter(
        "quoter_venue_submit_outcome_unknown",
        "Quote submits whose outcome stayed unknown after retries.",
        stats.submit_outcome_unknown,
    )


def limiter(stats: VenueStats, guard: GuardState) -> Iterator[Metric]:
    yield labelled_counter(
        "quoter_ratelimit_waits",
        "Requests that waited for a rate-limiter token, by lane.",
        "lane",
        _by_lane(dict(stats.guard_waits)),
    )
    yield labelled_counter(
        "quoter_ratelimit_wait_seconds",
        "Time spent waiting for rate-limiter tokens, by lane.",
        "lane",
        _by_lane(dict(stats.guard_wait_s)),
    )
    yield labelled_counter(
        "quoter_ratelimit_refused",
        "Requests refused because their lane's daily allowance was spent.",
        "lane",
        _by_lane(dict(stats.guard_refused)),
    )
    yield labelled_gauge(
        "quoter_ratelimit_waiting",
        "Requests waiting for a token now, by lane.",
        "lane",
        {lane.name.lower(): float(n) for lane, n in guard.waiting.items()},
    )
    yield gauge("quoter_ratelimit_tokens", "Tokens in our bucket now.", guard.tokens_now)


def quota(stats: VenueStats, guard: GuardState) -> Iterator[Metric]:
    yield gauge(
        "quoter_quota_spent_requests",
        "Requests spent of today's quota (UTC day).",
        guard.spent_today,
    )
    yield gauge("quoter_quota_limit_requests", "The daily request quota.", guard.daily_quota)
    yield labelled_gauge(
        "quoter_quota_left_requests",
        "Requests each lane may still spend today (reserves kept for higher lanes).",
        "lane",
        {lane.name.lower(): float(n) for lane, n in guard.left_today.items()},
    )
    yield gauge(
        "quoter_quota_exhausted",
        "1 once the venue says the day's quota is spent.",
        float(guard.exhausted),
    )
    yield gauge(
        "quoter_quota_reset_timestamp_seconds",
        "When the quota resets (Unix time).",
        guard.resets_at.timestamp(),
    )
    yield gauge(
        "quoter_quota_ledger_failsafe",
        "1 while the quota ledger cannot be trusted: only withdrawals go.",
        float(guard.ledger_failsafe is not None),
    )
    yield counter(
        "quoter_quota_ledger_write_errors",
        "Failed writes of the quota ledger.",
        stats.ledger_write_errors,
    )


def venue_metrics(stats: VenueStats, guard: GuardState) -> Iterator[Metric]:
    yield from requests(stats)
    yield from limiter(stats, guard)
    yield from quota(stats, guard)
