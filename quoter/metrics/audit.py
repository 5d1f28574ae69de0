"""The audit trail, timed: wraps any `Audit` and counts how long each write takes (durable
writes, which fsync before a quote goes out, apart from the rest); with the trail's chain
health, `quoter_audit_chain_ok` too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import Metric

from quoter.audit.events import Event, Unknown
from quoter.audit.trail import ChainHealth
from quoter.basics.histogram import BucketCounts
from quoter.engine.audit import Audit
from quoter.metrics.families import gauge


class TimedAudit:
    def __init__(
        self, inner: Audit, timer: Callable[[], float], health: ChainHealth | None = None
    ) -> None:
        self._inner = inner
        self._timer = timer
        self.health = health
        self.buffered = BucketCounts()
        self.durable = BucketCounts()

    def write(self, event: Event | Unknown, at: datetime, *, durable: bool = False) -> None:
        started = self._timer()
        try:
            self._inner.write(event, at, durable=durable)
        finally:
            (self.durable if durable else self.buffered).observe(self._timer() - started)

    def keeps(self, kind: type[Event]) -> bool:
        return self._inner.keeps(kind)


def chain_metrics(health: ChainHealth | None) -> Iterator[Metric]:
    """`quoter_audit_chain_ok`: the ops alert's name; nothing when the audit has no chain."""
    if health is not None:
        yield gauge(
            "quoter_audit_chain_ok",
            "1 while the audit chain the bot writes verifies (it started intact, every write "
            "succeeded); 0 when it started on a break or a write failed.",
            1.0 if health.ok else 0.0,
        )
