"""The venue's bad answers, injected over HTTP against the real sandbox: each is refused by
name (what, and where it came from), counted, audited, and never quoted on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from quoter.domain import MyQuoteStatus, QuoteStatus, RfqStatus
from quoter.engine.desk import Desk
from quoter.engine.quotes import QuoteState
from quoter.engine.status import render_status, status_of
from quoter.metrics import venue_metrics
from quoter.metrics.engine_metrics import activity
from quoter.sandbox.server import RunningSandbox
from quoter.venue.http import HttpVenue
from tests.engine.harness import (
    Running,
    audit_records,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.venue.contract import fault, new_rfq


def _end(sandbox: RunningSandbox, rfq_id: str, status: RfqStatus, mine: MyQuoteStatus) -> None:
    """The RFQ ends at the venue as the market would end it: our quote with it."""
    sim = sandbox.state.rfqs[rfq_id]
    quote = sandbox.state.active_quote(sim)
    assert quote is not None
    ended = QuoteStatus.LOST if mine is MyQuoteStatus.LOST else QuoteStatus.EXPIRED
    sandbox.state.put_quote(replace(quote, status=ended))
    at = sim.rfq.updated_at + timedelta(seconds=1)
    rfq = replace(sim.rfq, status=status, my_quote_status=mine, updated_at=at)
    sandbox.state.put_rfq(replace(sim, rfq=rfq))


def _reopen(sandbox: RunningSandbox, rfq_id: str) -> None:
    """The venue lists the ended RFQ open again, stamped later (a venue bug, a replayed row)."""
    sim = sandbox.state.rfqs[rfq_id]
    at = sim.rfq.updated_at + timedelta(seconds=1)
    rfq = replace(
        sim.rfq, status=RfqStatus.OPEN, my_quote_status=MyQuoteStatus.NOT_QUOTED, updated_at=at
    )
    sandbox.state.put_rfq(replace(sim, rfq=rfq))


def _live(desk: Desk, rfq_id: str) -> bool:
    mine = desk.quotes.get(rfq_id)
    return mine is not None and mine.state is QuoteState.LIVE


def _metric(desk: Desk, name: str) -> float:
    [family] = [m for m in activity(desk) if m.name == name]
    return float(sum(s.value for s in family.samples if s.name == f"{name}_total"))


@pytest.mark.parametrize(
    ("status", "mine"),
    [(RfqStatus.TRADED, MyQuoteStatus.LOST), (RfqStatus.EXPIRED, MyQuoteStatus.EXPIRED)],
)
async def test_an_rfq_listed_open_after_it_ended_is_refused_not_quoted_again(
    tmp_path: Path, status: RfqStatus, mine: MyQuoteStatus
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        first = await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the first quote")
        _end(sandbox, first, status, mine)
        await eventually(lambda: first not in bot.desk.rfqs, f"the RFQ seen {status}")
        _reopen(sandbox, first)
        # The poll reads oldest change first: once the later RFQ is quoted, the row saying
        # the first is open again has been read, and anything it led to was sent before.
        second = await new_rfq(sandbox, **month_ahead("Apr-26 again"))
        await eventually(lambda: _live(bot.desk, second), "the later RFQ quoted")
        intents = [r["rfq-id"] for r in audit_records(tmp_path, "quote-intent")]
        assert intents == [first, second]
        assert first not in bot.desk.rfqs
        assert bot.desk.stats.rfqs_reopened == 1
        assert bot.desk.stats.rfqs_seen == 2
        assert _metric(bot.desk, "quoter_rfqs_reopened") == 1
        shown = render_status(status_of(bot.deps, bot.desk, bot.engine.last_plan))
        assert "reopened 1 (refused)" in shown
    [refused] = audit_records(tmp_path, "rfq-reopened")
    assert (refused["rfq-id"], refused["ended"]) == (first, status)
    assert refused["reason"].startswith(
        f"list_rfqs: RFQ {first} listed open after it ended {status}"
    )


def _metric_by(desk: Desk, name: str, label: str) -> dict[str, float]:
    [family] = [m for m in activity(desk) if m.name == name]
    return {s.labels[label]: s.value for s in family.samples if s.name == f"{name}_total"}


def _venue_metric(bot: Running, name: str, endpoint: str) -> float:
    venue = bot.deps.venue
    assert isinstance(venue, HttpVenue)
    families = venue_metrics.requests(venue.stats)
    [family] = [m for m in families if m.name == name]
    return sum(s.value for s in family.samples if s.labels.get("endpoint") == endpoint)


async def test_a_submit_answered_2xx_with_a_field_missing_is_named_by_endpoint_and_field(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(sandbox, "malformed-quote", method="POST", path="/quotes")
        rfq_id = await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.outcomes_unknown == 1, "the broken answer")
        shown = render_status(status_of(bot.deps, bot.desk, bot.engine.last_plan))
        counted = _venue_metric(bot, "quoter_venue_malformed_responses", "submit_quote")
    [answered] = audit_records(tmp_path, "quote-answer")
    assert answered["rfq-id"] == rfq_id
    assert answered["answer"].startswith("outcome-unknown: submit_quote: ")
    assert "valid-until: field required" in answered["answer"]
    [bad] = audit_records(tmp_path, "bad-answer")
    assert (bad["endpoint"], bad["field"]) == ("submit_quote", "valid-until")
    assert "bad answers 1, last: submit_quote: " in shown
    assert "valid-until: field required" in shown
    assert counted == 1


async def test_a_submit_answered_2xx_with_a_body_not_json_is_named_by_endpoint(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(sandbox, "invalid-json", method="POST", path="/quotes")
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.outcomes_unknown == 1, "the garbled answer")
    [answered] = audit_records(tmp_path, "quote-answer")
    assert answered["answer"].startswith("outcome-unknown: submit_quote: ")
    assert "body is not JSON" in answered["answer"]
    [bad] = audit_records(tmp_path, "bad-answer")
    assert (bad["endpoint"], bad["field"]) == ("submit_quote", None)


async def test_a_poll_answered_with_a_body_not_json_is_named_by_endpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started")
        await fault(sandbox, "invalid-json", method="GET", path="/rfqs")
        await eventually(
            lambda: bot.desk.stats.venue_errors["MalformedResponse"] == 1, "the garbled poll"
        )
        shown = render_status(status_of(bot.deps, bot.desk, bot.engine.last_plan))
        counted = _venue_metric(bot, "quoter_venue_malformed_responses", "list_rfqs")
    [bad] = audit_records(tmp_path, "bad-answer")
    assert (bad["endpoint"], bad["field"]) == ("list_rfqs", None)
    assert bad["error"].startswith("list_rfqs: the body is not JSON")
    assert "bad answers 1, last: list_rfqs: the body is not JSON" in shown
    said = [r.getMessage() for r in caplog.records if r.name.startswith("quoter")]
    assert any("list_rfqs: the body is not JSON" in m for m in said)
    assert counted == 1


async def test_a_quote_found_live_after_an_unknown_outcome_is_shown_so_by_status_and_metrics(
    tmp_path: Path,
) -> None:
    """Not counted as sent (no answer acknowledged it): the status says why one is live."""
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(sandbox, "malformed-quote", method="POST", path="/quotes")
        rfq_id = await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: _live(bot.desk, rfq_id), "the quote found live")
        status = status_of(bot.deps, bot.desk, bot.engine.last_plan)
        [line] = [x for x in render_status(status).splitlines() if x.startswith("quotes")]
        assert "sent 0  requotes 0  live 1" in line
        assert "unknown 1 (found live 1, possibly live 0)" in line
        assert (status["quotes-sent"], status["outcomes-unknown"]) == (0, 1)
        assert status["unknown-found-live"] == 1
        resolved = _metric_by(bot.desk, "quoter_quotes_unknown_resolved", "found")
        assert resolved == {"live": 1, "ended": 0, "not-found": 0}
        assert _metric_by(bot.desk, "quoter_quotes_sent", "kind") == {"new": 0, "requote": 0}
