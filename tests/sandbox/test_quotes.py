from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sandbox.client import Venue, price


def code(reply: Any) -> tuple[int, str]:
    return reply.status, reply.body["error"]["code"]


async def test_new_quote_is_201_with_the_contract_shape(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    reply = await venue.quote(rfq, price=price(87.35))
    assert reply.status == 201
    quote = reply.body
    assert quote["status"] == "active"
    assert quote["rfq-id"] == rfq["id"]
    assert quote["price"] == {"value": 87.35, "currency": "EUR"}
    assert quote["bid"] is None
    assert quote["ask"] is None
    assert quote["valid-until"] == rfq["quote-deadline"]
    assert quote["_links"]["rfq"]["href"] == f"/v2.2/rfqs/{rfq['id']}"
    now = (await venue.call("GET", f"/rfqs/{rfq['id']}")).body
    assert now["my-quote-status"] == "quoted"


@pytest.mark.parametrize(
    "body",
    [
        {"price": price(87.3451)},
        {"price": price(4000.5)},
        {"price": price(-500.001)},
        {"price": price(87.0, "USD")},
        {"price": price("87.0")},
        {"price": {"value": 87.0}},
        {"price": None},
        {"bid": price(80.0), "ask": price(81.0), "price": None},
        {"valid-until": "2026-03-02T08:59:00Z"},
        {"valid-until": "2026-03-02T09:06:00Z"},  # after the deadline
        {"valid-until": "2026-03-02T09:04:00"},  # naive
        {"client-quote-id": ""},
        {"client_quote_id": "snake"},
    ],
)
async def test_invalid_one_way_quotes_are_422(venue: Venue, body: dict[str, object]) -> None:
    rfq = await venue.make_rfq()
    assert code(await venue.quote(rfq, **body)) == (422, "INVALID_QUOTE")


@pytest.mark.parametrize(
    "body",
    [
        {"bid": price(81.0), "ask": price(81.0)},
        {"bid": price(82.0), "ask": price(81.0)},
        {"bid": None},
        {"price": price(80.0)},
    ],
)
async def test_invalid_two_way_quotes_are_422(venue: Venue, body: dict[str, object]) -> None:
    rfq = await venue.make_rfq(**{"quote-type": "two-way"})
    assert rfq["action"] is None
    assert code(await venue.quote(rfq, **body)) == (422, "INVALID_QUOTE")


async def test_malformed_json_is_400_and_unknown_rfq_404(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    await venue.authenticate()
    headers = {"x-api-key": venue.api_key, "Authorization": f"Bearer {venue.token}"}
    reply = await venue.send(
        "POST", f"/v2.2/rfqs/{rfq['id']}/quotes", data=b'{"price": ', headers=headers
    )
    assert code(reply) == (400, "INVALID_JSON")
    reply = await venue.call("POST", "/rfqs/nope/quotes", json={})
    assert code(reply) == (404, "NOT_FOUND")


async def test_repeated_client_quote_id_returns_the_original(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    first = await venue.quote(rfq, **{"client-quote-id": "same", "price": price(80.0)})
    again = await venue.quote(rfq, **{"client-quote-id": "same", "price": price(99.0)})
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert (await venue.counters())["quotes-created"] == 1
    other = await venue.make_rfq()
    reply = await venue.quote(other, **{"client-quote-id": "same"})
    assert code(reply) == (422, "INVALID_QUOTE")


async def test_new_quote_supersedes_the_active_one(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    first = (await venue.quote(rfq)).body
    second = (await venue.quote(rfq, price=price(79.5))).body
    quotes = (await venue.call("GET", "/quotes")).body["items"]
    statuses = {q["id"]: q["status"] for q in quotes}
    assert statuses == {first["id"]: "superseded", second["id"]: "active"}
    active = await venue.call("GET", "/quotes", params={"status": "active"})
    assert [q["id"] for q in active.body["items"]] == [second["id"]]
    counters = await venue.counters()
    assert counters["live-quotes"] == 1
    assert counters["duplicate-live"] == 0
    assert counters["max-live-quotes-per-rfq"] == 1


async def test_withdraw(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    quote = (await venue.quote(rfq)).body
    path = f"/rfqs/{rfq['id']}/quotes/{quote['id']}"
    reply = await venue.call("DELETE", path)
    assert (reply.status, reply.raw) == (204, b"")
    assert code(await venue.call("DELETE", path)) == (409, "QUOTE_NOT_ACTIVE")
    assert code(await venue.call("DELETE", f"/rfqs/{rfq['id']}/quotes/q-nope")) == (
        404,
        "NOT_FOUND",
    )
    other = await venue.make_rfq()
    wrong_rfq = await venue.call("DELETE", f"/rfqs/{other['id']}/quotes/{quote['id']}")
    assert code(wrong_rfq) == (404, "NOT_FOUND")
    rfq_now = (await venue.call("GET", f"/rfqs/{rfq['id']}")).body
    assert rfq_now["my-quote-status"] == "withdrawn"
    assert (await venue.counters())["live-quotes"] == 0


async def test_withdraw_races_acceptance_first_commit_wins(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"competitor-price": None})
    quote = (await venue.quote(rfq)).body
    # The deadline passes first: acceptance commits before the withdrawal arrives.
    venue.running.clock.advance(301)
    reply = await venue.call("DELETE", f"/rfqs/{rfq['id']}/quotes/{quote['id']}")
    assert code(reply) == (409, "QUOTE_NOT_ACTIVE")
    quotes = (await venue.call("GET", "/quotes")).body["items"]
    assert quotes[0]["status"] == "accepted"
    # Concurrent withdrawals of one quote: exactly one wins.
    rfq = await venue.make_rfq()
    quote = (await venue.quote(rfq)).body
    path = f"/rfqs/{rfq['id']}/quotes/{quote['id']}"
    replies = await asyncio.gather(*(venue.call("DELETE", path) for _ in range(5)))
    assert sorted(r.status for r in replies) == [204, 409, 409, 409, 409]


async def test_quoting_a_closed_rfq_is_409(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    await venue.advance(301)
    reply = await venue.quote(rfq, **{"valid-until": "2026-03-02T10:00:00Z"})
    assert code(reply) == (409, "RFQ_NOT_OPEN")


async def test_quotes_list_updated_since_and_paging(venue: Venue) -> None:
    rfqs = [await venue.make_rfq() for _ in range(3)]
    quotes = []
    for rfq in rfqs:
        quotes.append((await venue.quote(rfq)).body)
        await venue.advance(1)
    since = quotes[1]["updated-at"]
    page = (await venue.call("GET", "/quotes", params={"updated-since": since})).body
    assert [q["id"] for q in page["items"]] == [quotes[1]["id"], quotes[2]["id"]]
    page = (await venue.call("GET", "/quotes", params={"limit": "1", "skip": "1"})).body
    assert (page["total"], page["limit"], page["skip"]) == (3, 1, 1)
    assert [q["id"] for q in page["items"]] == [quotes[1]["id"]]
    reply = await venue.call("GET", "/quotes", params={"status": "open"})
    assert code(reply) == (400, "INVALID_PARAMETER")
