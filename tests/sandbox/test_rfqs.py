from __future__ import annotations

import re

import pytest

from tests.sandbox.client import Venue

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_rfq_has_the_contract_shape(venue: Venue) -> None:
    made = await venue.make_rfq()
    reply = await venue.call("GET", f"/rfqs/{made['id']}", prefix="/v2.0")
    assert reply.status == 200
    rfq = reply.body
    assert set(rfq) == {
        "id", "short-id", "venue", "status", "created-at", "updated-at", "quote-deadline",
        "requester", "action", "quote-type", "instrument", "quantity", "pricing",
        "my-quote-status", "_links",
    }  # fmt: skip
    assert rfq["venue"] == "entender"
    assert rfq["status"] == "open"
    assert rfq["my-quote-status"] == "not-quoted"
    for key in ("created-at", "updated-at", "quote-deadline"):
        assert ISO_Z.match(rfq[key])
    assert rfq["instrument"]["maturity"] == {
        "start": "2026-03-02T23:00:00.000Z",  # day-ahead from local midnight Berlin
        "end": "2026-03-03T23:00:00.000Z",
    }
    assert rfq["instrument"]["product"]["type"] == "day"
    assert rfq["quantity"] == {"amount": {"value": 10.0, "unit": "MW"}, "ref": None}
    assert rfq["_links"]["self"]["href"] == f"/v2.0/rfqs/{made['id']}"


async def test_all_three_prefixes_and_unknown_paths(venue: Venue) -> None:
    for prefix in ("/v2.0", "/v2.1", "/v2.2"):
        assert (await venue.call("GET", "/rfqs", prefix=prefix)).status == 200
    for prefix in ("/v2.3", "/v1", ""):
        reply = await venue.call("GET", "/rfqs", prefix=prefix)
        assert (reply.status, reply.body["error"]["code"]) == (404, "NOT_FOUND")
    reply = await venue.call("PUT", "/rfqs")
    assert (reply.status, reply.body["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")


async def test_unknown_rfq_is_404(venue: Venue) -> None:
    for path in ("/rfqs/nope", "/rfqs/nope/load-shape"):
        reply = await venue.call("GET", path)
        assert reply.status == 404
        assert reply.body["error"]["code"] == "NOT_FOUND"


async def test_paging_and_limits(venue: Venue) -> None:
    for _ in range(55):
        await venue.make_rfq()
    page = (await venue.call("GET", "/rfqs")).body
    assert (len(page["items"]), page["total"], page["limit"], page["skip"]) == (50, 55, 50, 0)
    page = (await venue.call("GET", "/rfqs", params={"limit": "100", "skip": "50"})).body
    assert (len(page["items"]), page["limit"], page["skip"]) == (5, 100, 50)
    for params in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"skip": "-1"}):
        reply = await venue.call("GET", "/rfqs", params=params)
        assert reply.status == 400
        assert reply.body["error"]["code"] == "INVALID_PARAMETER"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"commodity": "coal"},
        {"market-area": "XX"},
        {"updated-since": "2026-03-02T09:00:00"},  # naive
        {"updated-since": "yesterday"},
        {"updated_since": "2026-03-02T09:00:00Z"},  # snake case is not the contract's
    ],
)
async def test_bad_query_parameters_are_400(venue: Venue, params: dict[str, str]) -> None:
    reply = await venue.call("GET", "/rfqs", params=params)
    assert (reply.status, reply.body["error"]["code"]) == (400, "INVALID_PARAMETER")


async def test_filters(venue: Venue) -> None:
    await venue.make_rfq()
    gas = await venue.make_rfq(instrument={"commodity": "gas", "market-area": "TTF"})
    assert gas["instrument"]["maturity"]["start"] == "2026-03-03T05:00:00.000Z"  # 06:00 local
    only = (await venue.call("GET", "/rfqs", params={"commodity": "gas"})).body["items"]
    assert [r["id"] for r in only] == [gas["id"]]
    only = (await venue.call("GET", "/rfqs", params={"market-area": "DE"})).body["items"]
    assert len(only) == 1
    assert only[0]["id"] != gas["id"]
    assert (await venue.call("GET", "/rfqs", params={"status": "traded"})).body["total"] == 0


async def test_updated_since_is_inclusive_oldest_first_any_offset(venue: Venue) -> None:
    first = await venue.make_rfq()
    await venue.advance(10)
    second = await venue.make_rfq()
    await venue.advance(10)
    third = await venue.make_rfq()
    await venue.advance(1)
    await venue.quote(first)  # first is updated last now
    since = second["updated-at"].replace("Z", "+00:00").replace("T09:", "T10:")
    since = since.replace("+00:00", "+01:00")  # the same instant in CET
    reply = await venue.call("GET", "/rfqs", params={"updated-since": since})
    assert [r["id"] for r in reply.body["items"]] == [second["id"], third["id"], first["id"]]
    newest_first = (await venue.call("GET", "/rfqs")).body["items"]
    assert [r["id"] for r in newest_first] == [first["id"], third["id"], second["id"]]
