"""The exposition itself: histogram counts, bounded labels, the loopback-only endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from pydantic import ValidationError

from quoter.basics.histogram import BucketCounts
from quoter.basics.usage import GuardState, Lane
from quoter.engine.stats import EngineStats, Samples
from quoter.metrics.config import MetricsConfig
from quoter.metrics.server import serve_metrics
from quoter.metrics.venue_metrics import venue_metrics
from quoter.venue.stats import VenueStats


def test_buckets_count_values_at_or_below_each_bound() -> None:
    counts = BucketCounts((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 7.0):
        counts.observe(value)
    assert counts.cumulative() == [("0.1", 2.0), ("1.0", 4.0), ("+Inf", 5.0)]
    assert counts.count == 5
    assert counts.sum == pytest.approx(8.65)


def test_samples_keep_the_recent_window_and_count_every_sample() -> None:
    samples = Samples(bounds=(1.0,), maxlen=2)
    for value in (0.5, 2.0, 3.0):
        samples.append(value)
    assert list(samples) == [2.0, 3.0]
    assert samples.histogram.count == 3
    assert EngineStats.percentile_ms(samples, 50) == pytest.approx(2500.0)


def test_venue_request_time_is_kept_by_endpoint_and_status_only() -> None:
    stats = VenueStats()
    stats.count_request("POLL", "list_rfqs", 200, seconds=0.01)
    stats.count_request("POLL", "list_rfqs", 200)  # the old call still counts
    assert stats.requests[("POLL", "list_rfqs", "200")] == 2
    assert stats.request_s[("list_rfqs", "200")].count == 1


def test_metrics_refuse_a_non_loopback_host_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="not loopback"):
        MetricsConfig(host="0.0.0.0")
    assert MetricsConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert MetricsConfig().host == "127.0.0.1"


class _Fixed(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from ()


async def test_the_endpoint_serves_the_registry_on_loopback() -> None:
    registry = CollectorRegistry()
    registry.register(_Fixed())
    async with (
        serve_metrics(MetricsConfig(port=0), registry) as url,
        aiohttp.ClientSession() as session,
    ):
        assert url.startswith("http://127.0.0.1:")
        async with session.get(url) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain")
            assert await answer.read() == generate_latest(registry)
        async with session.get(url.replace("/metrics", "/healthz")) as answer:
            assert answer.status == 200


def test_venue_labels_are_bounded() -> None:
    stats = VenueStats()
    stats.count_request("SUBMIT", "submit_quote", 201, seconds=0.02)
    lanes = dict.fromkeys(Lane, 0)
    guard = GuardState(
        day=date(2026, 3, 2),
        spent_today=1,
        daily_quota=5000,
        exhausted=False,
        left_today=lanes,
        tokens_now=80.0,
        tokens_free=dict.fromkeys(Lane, 0.0),
        waiting=lanes,
        resets_at=datetime(2026, 3, 3, tzinfo=UTC),
    )
    families = list(venue_metrics(stats, guard))
    labels = {name for f in families for s in f.samples for name in s.labels}
    assert labels <= {"lane", "endpoint", "status", "le"}
