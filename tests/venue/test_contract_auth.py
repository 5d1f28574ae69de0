"""Contract §2 against the sandbox: keys, authentication, token reuse, expiry, revocation."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoter.sandbox.server import RunningSandbox
from quoter.venue.config import VenueCredentials
from quoter.venue.errors import AuthenticationFailed
from tests.venue.contract import advance, client, counters, fault


async def test_one_token_serves_many_calls(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with client(sandbox, tmp_path) as venue:
        for _ in range(3):
            await venue.list_rfqs()
        await venue.list_quotes()
        await venue.list_trades()
        assert venue.stats.authentications == 1
    seen = await counters(sandbox)
    assert seen["authentications"] == 1
    assert seen["by-status"] == {"200": 6}


@pytest.mark.parametrize("prefix", ["/v2.0", "/v2.1", "/v2.2"])
async def test_every_version_prefix(sandbox: RunningSandbox, tmp_path: Path, prefix: str) -> None:
    async with client(sandbox, tmp_path, api_prefix=prefix) as venue:
        assert (await venue.list_rfqs()).items == ()


async def test_revoked_tokens_cost_one_reauthentication(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with client(sandbox, tmp_path) as venue:
        await venue.list_rfqs()
        await fault(sandbox, "revoke-tokens")
        await venue.list_rfqs()
        assert venue.stats.reauths == 1
    seen = await counters(sandbox)
    assert seen["authentications"] == 2
    assert seen["by-status"]["401"] == 1


async def test_the_token_is_renewed_at_berlin_midnight(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with client(sandbox, tmp_path) as venue:
        await venue.list_rfqs()
        await advance(sandbox, 14 * 3600)  # 09:00 UTC -> 23:00 UTC, midnight in Berlin
        await venue.list_rfqs()
        assert venue.stats.token_renewals == 1
    seen = await counters(sandbox)
    assert seen["authentications"] == 2
    assert "401" not in seen["by-status"]  # renewed before the venue had to refuse it


@pytest.mark.parametrize("wrong", ["client_secret", "client_id"])
async def test_bad_credentials_are_401(sandbox: RunningSandbox, tmp_path: Path, wrong: str) -> None:
    credentials = sandbox.credentials.model_copy(update={wrong: "nope"})
    credentials = VenueCredentials.model_validate(
        {k: getattr(credentials, k) for k in ("client_id", "client_secret", "api_key")}
    )
    async with client(sandbox, tmp_path, credentials=credentials) as venue:
        with pytest.raises(AuthenticationFailed) as caught:
            await venue.list_rfqs()
    assert caught.value.status == 401


async def test_an_unknown_api_key_is_403(sandbox: RunningSandbox, tmp_path: Path) -> None:
    credentials = VenueCredentials.model_validate(
        {
            "client_id": sandbox.credentials.client_id,
            "client_secret": sandbox.credentials.client_secret,
            "api_key": "not-our-key",
        }
    )
    async with client(sandbox, tmp_path, credentials=credentials) as venue:
        with pytest.raises(AuthenticationFailed) as caught:
            await venue.list_rfqs()
    assert caught.value.status == 403
    assert "not-our-key" not in str(caught.value)
