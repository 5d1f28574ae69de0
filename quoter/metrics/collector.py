"""The registry of one run: a collector that reads the engine, the venue client and the audit
timings when Prometheus scrapes, so quoting pays nothing for metrics but a few bucket counts.

    registry = build_registry(engine.deps, engine.desk, venue.stats, audit)   # in the composition root
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from quoter.engine.desk import Desk
from quoter.engine.state import EngineDeps
from quoter.metrics.audit import TimedAudit, chain_metrics
from quoter.metrics.engine_metrics import engine_metrics
from quoter.metrics.families import labelled_histogram
from quoter.metrics.venue_metrics import venue_metrics
from quoter.venue.stats import VenueStats


class QuoterCollector(Collector):
    """Reads state only; runs on the event loop (the state's owner), between its steps."""

    def __init__(
        self,
        deps: EngineDeps,
        desk: Desk,
        venue_stats: VenueStats,
        audit: TimedAudit | None = None,
    ) -> None:
        self._deps = deps
        self._desk = desk
        self._venue_stats = venue_stats
        self._audit = audit

    def collect(self) -> Iterator[Metric]:
        yield from engine_metrics(self._deps, self._desk)
        yield from venue_metrics(self._venue_stats, self._deps.venue.guard_state())
        if self._audit is not None:
            yield labelled_histogram(
                "quoter_audit_write_seconds",
                "Time to append one audit record; durable ones are fsynced before a quote.",
                ("durable",),
                [(("true",), self._audit.durable), (("false",), self._audit.buffered)],
            )
            yield from chain_metrics(self._audit.health)


def build_registry(
    deps: EngineDeps,
    desk: Desk,
    venue_stats: VenueStats,
    audit: TimedAudit | None = None,
    *,
    process: bool = True,
) -> CollectorRegistry:
    """A registry of its own (never the global default), with process metrics when asked."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(QuoterCollector(deps, desk, venue_stats, audit))
    if process:
        ProcessCollector(registry=registry)
    return registry
