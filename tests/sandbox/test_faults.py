from __future__ import annotations

import time

import orjson
import pytest

from tests.sandbox.client import Venue


async def fault(venue: Venue, **body: object) -> None:
    reply = await venue.control("POST", "/faults", body)
    assert reply.status in (200, 201), reply.body


@pytest.mark.parametrize(
    ("status", "message"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_status_fault_answers_gateway_errors_and_counts(
    venue: Venue, status: int, message: str
) -> None:
    await venue.authenticate()
    await fault(venue, kind="status", status=status, count=2, path="/rfqs")
    assert (await venue.call("GET", "/quotes")).status == 200  # path filter
    replies = [await venue.call("GET", "/rfqs") for _ in range(3)]
    assert [(r.status, r.body) for r in replies[:2]] == [(status, {"message": message})] * 2
    assert replies[2].status == 200
    counters = await venue.counters()
    assert counters["by-status"][str(status)] == 2
    assert counters["quota-spent"][venue.running.sandbox.key_label] == 5


async def test_latency_fault_delays_the_answer(venue: Venue) -> None:
    await venue.authenticate()
    await fault(venue, kind="latency", **{"latency-s": 0.3}, method="GET")
    started = time.monotonic()
    assert (await venue.call("GET", "/rfqs")).status == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await venue.call("GET", "/rfqs")
    assert time.monotonic() - started < 0.3


async def test_rate_limit_storm(venue: Venue) -> None:
    await venue.authenticate()
    await fault(venue, kind="rate-limit", count=3)
    replies = [await venue.call("GET", "/rfqs") for _ in range(4)]
    assert [r.status for r in replies] == [429, 429, 429, 200]
    assert replies[0].body == {"message": "Too Many Requests"}
    assert "Retry-After" not in replies[0].headers  # a storm as the gateway sends it: none
    assert (await venue.counters())["rate-limited"] == 3


@pytest.mark.parametrize("retry_after", [2, "2", "soon", "86400"])
async def test_a_rate_limit_fault_sends_the_retry_after_it_is_given(
    venue: Venue, retry_after: int | str
) -> None:
    await venue.authenticate()
    await fault(venue, kind="rate-limit", **{"retry-after": retry_after})
    reply = await venue.call("GET", "/rfqs")
    assert (reply.status, reply.headers["Retry-After"]) == (429, str(retry_after))


async def test_revoke_tokens_invalidates_every_token_so_far(venue: Venue) -> None:
    old = await venue.authenticate()
    reply = await venue.control("POST", "/faults", {"kind": "revoke-tokens"})
    assert reply.status == 200
    assert (await venue.call("GET", "/rfqs")).status == 401
    assert await venue.authenticate() != old
    assert (await venue.call("GET", "/rfqs")).status == 200


async def test_malformed_rfq_items_vary_and_sit_among_valid_ones(venue: Venue) -> None:
    made = [await venue.make_rfq() for _ in range(3)]
    await fault(venue, kind="malformed-rfq", count=5)
    broken = []
    for _ in range(5):
        items = (await venue.call("GET", "/rfqs")).body["items"]
        assert len(items) == 4
        bad = [i for i in items if i["id"].startswith("malformed-")]
        assert len(bad) == 1
        assert {i["id"] for i in items if i not in bad} == {r["id"] for r in made}
        broken.append(bad[0])
    assert "quote-deadline" not in broken[0]
    assert broken[1]["quantity"]["amount"]["value"] == "NaN"
    assert broken[2]["status"] == "pending-approval"
    assert broken[3]["quantity"]["amount"]["value"] == -10
    assert broken[4]["instrument"]["maturity"]["start"] == "not-a-date"
    assert len((await venue.call("GET", "/rfqs")).body["items"]) == 3
    full = (await venue.call("GET", "/rfqs", params={"limit": "3"})).body
    assert len(full["items"]) == 3  # no fault left: a full page stays full


async def test_malformed_item_keeps_a_full_page_within_its_limit(venue: Venue) -> None:
    for _ in range(3):
        await venue.make_rfq()
    await fault(venue, kind="malformed-rfq")
    page = (await venue.call("GET", "/rfqs", params={"limit": "2"})).body
    assert len(page["items"]) == 2
    assert page["total"] == 4


async def test_quote_504_stores_the_quote_and_a_retry_finds_it(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    await fault(venue, kind="quote-504")
    lost = await venue.quote(rfq, **{"client-quote-id": "retry-me"})
    assert (lost.status, lost.body) == (504, {"message": "Endpoint request timed out"})
    again = await venue.quote(rfq, **{"client-quote-id": "retry-me"})
    assert again.status == 200
    assert again.body["client-quote-id"] == "retry-me"
    assert (await venue.counters())["quotes-created"] == 1


async def test_quote_504_late_stores_the_quote_only_after_its_delay(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    await fault(venue, kind="quote-504-late", **{"store-after-s": 6})
    lost = await venue.quote(rfq, **{"client-quote-id": "late-one"})
    assert (lost.status, lost.body) == (504, {"message": "Endpoint request timed out"})
    listed = (await venue.call("GET", "/quotes")).body["items"]
    assert listed == []  # not yet: a read now would call it never created
    await venue.advance(5)
    assert (await venue.call("GET", "/quotes")).body["items"] == []
    await venue.advance(2)
    (stored,) = (await venue.call("GET", "/quotes")).body["items"]
    assert (stored["client-quote-id"], stored["status"]) == ("late-one", "active")


async def test_invalid_json_fault(venue: Venue) -> None:
    await venue.make_rfq()
    await fault(venue, kind="invalid-json", path="/rfqs", method="GET")
    reply = await venue.call("GET", "/rfqs")
    assert reply.status == 200
    assert reply.body is None
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(reply.raw)
    assert (await venue.call("GET", "/rfqs")).body["total"] == 1


async def test_faults_can_be_listed_cleared_and_are_checked(venue: Venue) -> None:
    await fault(venue, kind="status", status=503, count=2, method="POST", path="/quotes")
    pending = (await venue.control("GET", "/faults")).body["pending"]
    assert [(f["kind"], f["count"], f["method"]) for f in pending] == [("status", 2, "POST")]
    await venue.authenticate()
    assert (await venue.call("GET", "/rfqs")).status == 200  # method filter
    assert (await venue.control("DELETE", "/faults")).status == 204
    assert (await venue.control("GET", "/faults")).body["pending"] == []
    for bad in (
        {"kind": "meteor"},
        {"kind": "status", "status": 418},
        {"kind": "latency"},
        {"kind": "status", "status": 503, "count": 0},
        {"kind": "rate-limit", "colour": "red"},
        {"kind": "rate-limit", "retry-after": "two\nlines"},
        {"kind": "rate-limit", "retry-after": -1},
        {"kind": "token-expiry"},
    ):
        reply = await venue.control("POST", "/faults", bad)
        assert (reply.status, reply.body["error"]["code"]) == (400, "INVALID_CONTROL")
