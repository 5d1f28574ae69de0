"""The audit trail, timed: wraps any `Audit` and counts how long each write takes (durable
writes, which fsync before a quote goes out, apart from the rest); with the trail's chain
health, `quoter_audit_chain_ok` too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from quoter.audit.trail import ChainHealth
from quoter.engine.audit import Audit
from quoter.metrics.histogram import BucketCounts


class TimedAudit:
    def __init__(
        self, inner: Audit, timer: Callable[[], float], health: ChainHealth | None = None
    ) -> None:
        self._inner = inner
        self._timer = timer
        self.health = health
        self.buffered = BucketCounts()
        self.durable = BucketCounts()

    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        started = self._timer()
        try:
            self._inner.record(kind, at, data, durable=durable)
        finally:
            (self.durable if durable else self.buffered).observe(self._timer() - started)
