"""Contract §4 against the sandbox: submit, idempotent resubmit, requote, withdraw, 409/422/404,
and the gateway 504 that stores the quote."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from quoter.domain import Price, QuoteRequest, QuoteStatus
from quoter.sandbox.server import RunningSandbox
from quoter.venue.errors import (
    NotFound,
    QuoteNotActive,
    QuoteRejected,
    RfqNotOpen,
    SubmitOutcomeUnknown,
)
from tests.venue.contract import advance, client, counters, fault, new_rfq, quote_for


async def test_submit_resubmit_requote_and_withdraw(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rfq_id = await new_rfq(sandbox)
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        now = sandbox.clock.now()
        first = await venue.submit_quote(quote_for(rfq, "q-1", now))
        assert first.status is QuoteStatus.ACTIVE
        assert first.price == Price(87.35)
        again = await venue.submit_quote(quote_for(rfq, "q-1", now))
        assert again.id == first.id
        second = await venue.submit_quote(quote_for(rfq, "q-2", now, price=88.0))
        mine = {q.id: q.status for q in (await venue.list_quotes()).items}
        assert mine == {first.id: QuoteStatus.SUPERSEDED, second.id: QuoteStatus.ACTIVE}
        await venue.withdraw_quote(rfq_id, second.id)
        with pytest.raises(QuoteNotActive):
            await venue.withdraw_quote(rfq_id, second.id)
        with pytest.raises(NotFound):
            await venue.withdraw_quote(rfq_id, "no-such-quote")
        withdrawn = await venue.list_quotes(status=QuoteStatus.WITHDRAWN)
        assert [q.id for q in withdrawn.items] == [second.id]
        assert venue.stats.snapshot().requests_by(lane="WITHDRAW") == 3
    seen = await counters(sandbox)
    assert seen["quotes-created"] == 2
    assert seen["by-status"]["201"] == 2
    assert seen["by-status"]["204"] == 1


async def test_two_way_quotes(sandbox: RunningSandbox, tmp_path: Path) -> None:
    rfq_id = await new_rfq(sandbox, **{"quote-type": "two-way"})
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        quote = await venue.submit_quote(quote_for(rfq, "q-2w", sandbox.clock.now()))
    assert quote.bid == Price(86.35)
    assert quote.ask == Price(88.35)
    assert quote.price is None


async def test_refusals(sandbox: RunningSandbox, tmp_path: Path) -> None:
    rfq_id = await new_rfq(sandbox)
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        late = QuoteRequest(
            rfq_id, "q-late", rfq.quote_deadline + timedelta(minutes=1), price=Price(80)
        )
        with pytest.raises(QuoteRejected) as caught:
            await venue.submit_quote(late)
        assert (caught.value.status, caught.value.code) == (422, "INVALID_QUOTE")
        unknown = QuoteRequest("no-such-rfq", "q-x", rfq.quote_deadline, price=Price(80))
        with pytest.raises(NotFound):
            await venue.submit_quote(unknown)
        await advance(sandbox, 301)  # past the deadline: the RFQ expires
        with pytest.raises(RfqNotOpen):
            await venue.submit_quote(quote_for(rfq, "q-expired", sandbox.clock.now()))
        assert venue.stats.retries == {}


async def test_a_504_that_stored_the_quote_is_resolved_by_the_same_id(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rfq_id = await new_rfq(sandbox)
    await fault(sandbox, "quote-504", count=1)
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        quote = await venue.submit_quote(quote_for(rfq, "q-504", sandbox.clock.now()))
        assert quote.client_quote_id == "q-504"
        assert venue.stats.retries == {"submit_quote": 1}
    seen = await counters(sandbox)
    assert seen["quotes-created"] == 1
    assert seen["duplicate-live"] == 0
    assert seen["by-route"]  # both attempts reached the venue
    assert seen["by-status"]["504"] == 1
    assert seen["by-status"]["200"] >= 1


async def test_an_unanswered_submit_is_outcome_unknown(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rfq_id = await new_rfq(sandbox)
    # Two gateway 504s before the API, then one that stores the quote and answers 504.
    await fault(sandbox, "status", count=2, status=504, path="/quotes", method="POST")
    await fault(sandbox, "quote-504", count=1)
    async with client(sandbox, tmp_path, submit_retries=2) as venue:
        rfq = await venue.get_rfq(rfq_id)
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await venue.submit_quote(quote_for(rfq, "q-lost", sandbox.clock.now()))
        assert caught.value.client_quote_id == "q-lost"
        live = await venue.list_quotes(status=QuoteStatus.ACTIVE)
        assert [q.client_quote_id for q in live.items] == ["q-lost"]
    seen = await counters(sandbox)
    assert seen["quotes-created"] == 1


async def test_a_slow_submit_is_retried_with_the_same_id(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    rfq_id = await new_rfq(sandbox)
    await fault(sandbox, "latency", count=1, path="/quotes", method="POST", **{"latency-s": 1.0})
    async with client(sandbox, tmp_path, request_timeout_s=0.3) as venue:
        rfq = await venue.get_rfq(rfq_id)
        quote = await venue.submit_quote(quote_for(rfq, "q-slow", sandbox.clock.now()))
    assert quote.client_quote_id == "q-slow"
    seen = await counters(sandbox)
    assert seen["quotes-created"] == 1
    assert seen["duplicate-live"] == 0


@pytest.mark.parametrize(
    ("kind", "field", "says"),
    [
        ("malformed-quote", "valid-until", "valid-until: field required"),
        ("invalid-json", None, "the body is not JSON: "),
    ],
)
async def test_a_2xx_submit_answer_refused_names_the_endpoint_and_the_field(
    sandbox: RunningSandbox, tmp_path: Path, kind: str, field: str | None, says: str
) -> None:
    rfq_id = await new_rfq(sandbox)
    await fault(sandbox, kind, path="/quotes", method="POST")
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await venue.submit_quote(quote_for(rfq, "q-garbled", sandbox.clock.now()))
        assert str(caught.value).startswith("submit_quote: quote q-garbled answered 201, ")
        assert says in str(caught.value)
        bad = caught.value.bad_answer
        assert bad is not None
        assert (bad.endpoint, bad.field) == ("submit_quote", field)
        assert venue.stats.malformed_responses["submit_quote"] == 1
        live = await venue.list_quotes(status=QuoteStatus.ACTIVE)  # stored all the same
        assert [q.client_quote_id for q in live.items] == ["q-garbled"]
