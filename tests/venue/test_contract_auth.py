"""Contract §2 against the sandbox: keys, authentication, token reuse, expiry, revocation."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import Path

import pytest

from quoter.clock import ScaledClock
from quoter.sandbox.server import RunningSandbox
from quoter.venue.config import VenueCredentials
from quoter.venue.errors import AuthenticationFailed
from quoter.venue.http import HttpVenue
from quoter.venue.stats import VenueStats
from tests.conftest import SANDBOX_START
from tests.venue.contract import advance, client, client_config, counters, fault


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


def _expiry_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "expires-at" in r.getMessage()]


async def test_a_token_answer_already_expired_is_used_until_the_venue_refuses_it(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every answer says the token expired an hour before it was issued; the token works.
    await fault(sandbox, "token-expiry", count=100, path="/authenticate", **{"expires-in-s": -3600})
    caplog.set_level(logging.WARNING, logger="quoter.venue.session")
    async with client(sandbox, tmp_path) as venue:
        for _ in range(5):
            await venue.list_rfqs()
        assert (await counters(sandbox))["authentications"] == 1
        assert venue.stats.token_expiry_refused == 1
        await fault(sandbox, "revoke-tokens")  # the venue's 401 is what renews it
        for _ in range(3):
            await venue.list_rfqs()
        assert venue.stats.reauths == 1
        assert venue.stats.token_expiry_refused == 2
    seen = await counters(sandbox)
    assert seen["authentications"] == 2
    assert seen["by-status"] == {"200": 10, "401": 1}
    warned = _expiry_warnings(caplog)
    assert len(warned) == 1, warned  # once, not for every answer
    assert "had passed when it came" in warned[0]


async def test_a_venue_clock_a_day_behind_ours_costs_no_authentication_per_request(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    ours = ScaledClock(start=SANDBOX_START + timedelta(days=1))  # each token "expired" to us
    config = client_config(sandbox, tmp_path / "ledger.json")
    stats = VenueStats()
    rng = random.Random(11)
    async with HttpVenue.open(config, sandbox.credentials, ours, stats=stats, rng=rng) as venue:
        for _ in range(5):
            await venue.list_rfqs()
    assert (await counters(sandbox))["authentications"] == 1
    assert stats.token_expiry_refused == 1


async def test_a_token_that_comes_inside_its_renewal_margin_is_used_until_it_expires(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 30 s of life against the default 60 s margin: the last minute of a Berlin day.
    await fault(sandbox, "token-expiry", path="/authenticate", **{"expires-in-s": 30})
    caplog.set_level(logging.WARNING, logger="quoter.venue.session")
    async with client(sandbox, tmp_path) as venue:
        for _ in range(5):
            await venue.list_rfqs()
        assert (await counters(sandbox))["authentications"] == 1
        await advance(sandbox, 31)
        await venue.list_rfqs()
        assert venue.stats.token_renewals == 1
        assert venue.stats.token_expiry_refused == 0
    assert (await counters(sandbox))["authentications"] == 2
    assert _expiry_warnings(caplog) == []


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
