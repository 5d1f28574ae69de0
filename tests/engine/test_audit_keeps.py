"""The engine asks its audit which events it keeps, and builds the frequent ones (an RFQ seen,
the venue's answer, an outcome, a fill) only for an audit that keeps them: a replay's keeps its
decisions alone. The trail a bot writes keeps every kind, so a live run loses no record."""

from __future__ import annotations

import typing
from datetime import datetime
from pathlib import Path

from quoter.audit import events
from quoter.audit.trail import JsonlAudit
from quoter.backtest.driver import RecordingAudit
from quoter.metrics.audit import TimedAudit
from tests.engine.harness import eventually
from tests.engine.sim import arriving, sim_engine, sim_venue, virtual

FREQUENT = {events.RfqSeen, events.QuoteAnswered, events.Outcome, events.Filled}
EVERY_KIND = frozenset(typing.get_args(events.Event))


class Spy(RecordingAudit):
    """A replay's audit that also notes the kind of everything it is handed."""

    def __init__(self, kept: frozenset[type[events.Event]]) -> None:
        super().__init__()
        self.KEPT = kept
        self.handed: set[type[object]] = set()

    def write(
        self, event: events.Event | events.Unknown, at: datetime, *, durable: bool = False
    ) -> None:
        self.handed.add(type(event))
        super().write(event, at, durable=durable)


async def _two_won_rfqs(tmp_path: Path, audit: Spy) -> None:
    venue = sim_venue([arriving(0, deadline_s=20), arriving(1, at_s=2.0, deadline_s=20)])
    async with sim_engine(tmp_path, venue, audit=audit) as bot:
        await eventually(lambda: bot.desk.stats.won == 2, "both RFQs won at their deadline", 60)


def test_the_trail_keeps_every_kind_of_event(tmp_path: Path) -> None:
    trail = JsonlAudit(tmp_path / "audit")
    timed = TimedAudit(trail, lambda: 0.0)
    assert FREQUENT <= EVERY_KIND
    assert all(trail.keeps(kind) and timed.keeps(kind) for kind in EVERY_KIND)


@virtual
async def test_an_audit_that_keeps_every_kind_is_handed_the_frequent_events(
    tmp_path: Path,
) -> None:
    spy = Spy(EVERY_KIND)
    await _two_won_rfqs(tmp_path, spy)
    assert spy.handed >= FREQUENT | {events.QuoteIntent}


@virtual
async def test_a_replays_audit_is_handed_its_decisions_and_none_of_the_frequent_events(
    tmp_path: Path,
) -> None:
    spy = Spy(RecordingAudit.KEPT)
    await _two_won_rfqs(tmp_path, spy)
    assert events.QuoteIntent in spy.handed
    assert not spy.handed & FREQUENT
    assert [row.action for row in spy.decisions] == ["quote", "quote"]
