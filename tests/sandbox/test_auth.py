from __future__ import annotations

import jwt
import pytest

from tests.sandbox.client import Venue


async def test_missing_or_unknown_key_is_forbidden(venue: Venue) -> None:
    for headers in ({}, {"x-api-key": "not-the-key"}):
        reply = await venue.send(
            "POST", "/v2.2/authenticate", json=venue.credentials_body(), headers=headers
        )
        assert (reply.status, reply.body) == (403, {"message": "Forbidden"})
    token = await venue.authenticate()
    reply = await venue.send("GET", "/v2.2/rfqs", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 403


@pytest.mark.parametrize("spelling", ["_", "-"])
async def test_both_credential_spellings_authenticate(venue: Venue, spelling: str) -> None:
    reply = await venue.send(
        "POST",
        "/v2.1/authenticate",
        json=venue.credentials_body(spelling),
        headers={"x-api-key": venue.api_key},
    )
    assert reply.status == 200
    assert reply.body["token-type"] == "Bearer"
    # Issued 2026-03-02 10:00 Berlin: valid to the end of that Berlin day.
    assert reply.body["expires-at"] == "2026-03-02T23:00:00.000Z"
    claims = jwt.decode(reply.body["access-token"], options={"verify_signature": False})
    assert claims["exp"] == 1772492400


async def test_bad_credentials_and_grant_type(venue: Venue) -> None:
    headers = {"x-api-key": venue.api_key}
    wrong = venue.credentials_body() | {"client_secret": "nope"}
    reply = await venue.send("POST", "/v2.2/authenticate", json=wrong, headers=headers)
    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})
    grant = venue.credentials_body() | {"grant_type": "password"}
    reply = await venue.send("POST", "/v2.2/authenticate", json=grant, headers=headers)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "UNSUPPORTED_GRANT_TYPE"
    reply = await venue.send("POST", "/v2.2/authenticate", data=b"{nope", headers=headers)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "INVALID_JSON"


async def test_bearer_prefix_is_required(venue: Venue) -> None:
    token = await venue.authenticate()
    for authorization in (token, f"bearer {token}", f"Bearer {token}x", "Bearer "):
        headers = {"x-api-key": venue.api_key, "Authorization": authorization}
        reply = await venue.send("GET", "/v2.2/rfqs", headers=headers)
        assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})
    reply = await venue.send("GET", "/v2.2/rfqs", headers={"x-api-key": venue.api_key})
    assert reply.status == 401


async def test_token_expires_at_berlin_midnight(venue: Venue) -> None:
    await venue.authenticate()
    assert (await venue.call("GET", "/rfqs")).status == 200
    await venue.advance(13 * 3600 + 59 * 60)  # 23:59 Berlin
    assert (await venue.call("GET", "/rfqs")).status == 200
    await venue.advance(120)  # past midnight Berlin
    assert (await venue.call("GET", "/rfqs")).status == 401
    await venue.authenticate()
    assert (await venue.call("GET", "/rfqs")).status == 200


async def test_several_tokens_are_valid_at_once(venue: Venue) -> None:
    first = await venue.authenticate()
    await venue.authenticate()
    venue.token = first
    assert (await venue.call("GET", "/quotes")).status == 200
