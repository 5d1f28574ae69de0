"""Contract §3 and §5 against the sandbox: RFQs, load shapes, trades, malformed lists, faults."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest

from quoter.domain import Load, QuoteType, RfqStatus
from quoter.sandbox.server import RunningSandbox
from quoter.venue.errors import MalformedResponse, NotFound, VenueUnavailable
from tests.venue.contract import advance, client, counters, fault, new_rfq


async def test_rfqs_are_listed_and_read(sandbox: RunningSandbox, tmp_path: Path) -> None:
    first = await new_rfq(sandbox)
    second = await new_rfq(sandbox, **{"quote-type": "two-way"})
    async with client(sandbox, tmp_path) as venue:
        page = await venue.list_rfqs(status=RfqStatus.OPEN)
        assert {r.id for r in page.items} == {first, second}
        assert page.rejected == ()
        assert page.total == 2
        rfq = await venue.get_rfq(second)
        assert rfq.quote_type is QuoteType.TWO_WAY
        assert rfq.action is None
        assert rfq.quote_deadline.tzinfo is not None
        with pytest.raises(NotFound):
            await venue.get_rfq("no-such-rfq")
        with pytest.raises(NotFound):
            await venue.get_load_shape(first)  # not a custom RFQ


async def test_paging_and_updated_since(sandbox: RunningSandbox, tmp_path: Path) -> None:
    ids = [await new_rfq(sandbox) for _ in range(3)]
    async with client(sandbox, tmp_path) as venue:
        page = await venue.list_rfqs(limit=2, skip=1)
        assert (page.total, page.limit, page.skip, len(page.items)) == (3, 2, 1, 2)
        newest = await venue.get_rfq(ids[-1])
        await advance(sandbox, 1)
        later = await new_rfq(sandbox)
        cet = timezone(timedelta(hours=1))
        since = (newest.updated_at + timedelta(milliseconds=1)).astimezone(cet)
        fresh = await venue.list_rfqs(updated_since=since)
        assert [r.id for r in fresh.items] == [later]


@pytest.mark.parametrize(("resolution", "fmt"), [("PT1H", "23/25"), ("PT15M", "24/25")])
async def test_custom_rfqs_and_their_load_shapes(
    sandbox: RunningSandbox, tmp_path: Path, resolution: str, fmt: str
) -> None:
    rfq_id = await new_rfq(
        sandbox,
        instrument={"load": "custom"},
        **{"load-shape": {"resolution": resolution, "format": fmt}},
    )
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(rfq_id)
        assert rfq.instrument.load is Load.CUSTOM
        assert rfq.shape_ref is not None
        shape = await venue.get_load_shape(rfq_id)
    assert shape.resolution_s == {"PT1H": 3600, "PT15M": 900}[resolution]
    assert shape.starts[0] >= rfq.instrument.start
    assert all(v >= 0 for v in shape.volumes_mw)


async def test_malformed_items_are_set_aside(sandbox: RunningSandbox, tmp_path: Path) -> None:
    good = {await new_rfq(sandbox) for _ in range(3)}
    await fault(sandbox, "malformed-rfq", count=1)
    async with client(sandbox, tmp_path) as venue:
        page = await venue.list_rfqs()
        assert {r.id for r in page.items} == good
        assert page.rejected
        for item in page.rejected:
            assert item.item_id is not None
            assert item.item_id.startswith("malformed-")
            assert ": " in item.reason
        assert venue.stats.malformed_items["list_rfqs"] == len(page.rejected)
        again = await venue.list_rfqs()  # the fault is spent
        assert again.rejected == ()


async def test_invalid_json_is_malformed(sandbox: RunningSandbox, tmp_path: Path) -> None:
    await fault(sandbox, "invalid-json", path="/rfqs")
    async with client(sandbox, tmp_path) as venue:
        with pytest.raises(
            MalformedResponse, match=r"^list_rfqs: the body is not JSON: "
        ) as caught:
            await venue.list_rfqs()
        assert (caught.value.endpoint, caught.value.field) == ("list_rfqs", None)
        await venue.list_rfqs()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_gateway_errors_are_retried(
    sandbox: RunningSandbox, tmp_path: Path, status: int
) -> None:
    await fault(sandbox, "status", count=2, status=status, path="/trades")
    async with client(sandbox, tmp_path, read_retries=2) as venue:
        page = await venue.list_trades()
        assert page.items == ()
        assert venue.stats.retries["list_trades"] == 2
        await fault(sandbox, "status", count=3, status=status, path="/trades")
        with pytest.raises(VenueUnavailable) as caught:
            await venue.list_trades()
        assert caught.value.status == status


async def test_slow_answers_time_out(sandbox: RunningSandbox, tmp_path: Path) -> None:
    await fault(sandbox, "latency", count=1, path="/quotes", **{"latency-s": 1.0})
    async with client(sandbox, tmp_path, request_timeout_s=0.3, read_retries=1) as venue:
        await venue.list_quotes()  # the retry is not slowed
        assert venue.stats.snapshot().requests_by(endpoint="list_quotes") == 2
        await fault(sandbox, "latency", count=2, path="/quotes", **{"latency-s": 1.0})
        with pytest.raises(VenueUnavailable, match="timed out"):
            await venue.list_quotes()


async def test_every_request_is_counted_alike(sandbox: RunningSandbox, tmp_path: Path) -> None:
    await fault(sandbox, "status", count=1, status=503)
    async with client(sandbox, tmp_path) as venue:
        await venue.list_rfqs()
        await venue.list_trades()
        spent = venue.guard_state().spent_today
    seen = await counters(sandbox)
    assert spent == seen["requests"] == sum(seen["quota-spent"].values()) == 4
