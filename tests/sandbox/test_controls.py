from __future__ import annotations

import os
import stat
from argparse import Namespace
from pathlib import Path

import pytest
from pydantic import ValidationError

from quoter.commands.sandbox import describe, sandbox_config
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.credentials import CredentialSource, resolve_credentials
from quoter.sandbox.server import run_sandbox
from tests.conftest import sandbox_config as make_config
from tests.sandbox.client import Venue


async def test_clock_control(venue: Venue) -> None:
    now = (await venue.control("GET", "/clock")).body["now"]
    assert now.startswith("2026-03-02T09:00:0")
    assert (await venue.advance(3600)).startswith("2026-03-02T10:00:0")
    for bad in ({"advance-s": -1}, {"advance-s": "1"}, {"seconds": 1}):
        assert (await venue.control("POST", "/clock", bad)).status == 400


async def test_plan_control(venue: Venue) -> None:
    plan = (await venue.control("GET", "/plan")).body
    assert (plan["rate-per-s"], plan["burst"], plan["daily-quota"]) == (10.0, 100, 5000)
    plan = (await venue.control("POST", "/plan", {"burst": 3, "daily-quota": 20})).body
    assert (plan["burst"], plan["daily-quota"], plan["tokens"]) == (3, 20, 3.0)
    assert (await venue.control("POST", "/plan", {"burst": 0})).status == 400


async def test_rfq_control_overrides(venue: Venue) -> None:
    rfq = await venue.make_rfq(
        instrument={"commodity": "power", "market-area": "FR", "load": "peak",
                    "product": {"type": "month"}},
        action="sell",
        quantity={"amount": {"value": 25, "unit": "MW"}},
        **{"quote-deadline": "2026-03-02T10:10:00+01:00"},
        requester={"company": {"id": "c-9", "name": "Test AG"}},
    )  # fmt: skip
    assert rfq["instrument"]["market-area"] == "FR"
    assert rfq["instrument"]["load"] == "peak"
    assert rfq["instrument"]["product"] == {"type": "month", "label": "Apr-26"}
    assert rfq["instrument"]["maturity"]["start"] == "2026-03-31T22:00:00.000Z"
    assert rfq["quote-deadline"] == "2026-03-02T09:10:00.000Z"
    assert rfq["quantity"]["amount"]["value"] == 25
    assert rfq["requester"]["company"]["name"] == "Test AG"
    bads: tuple[object, ...] = (
        {"quote-type": "two-way", "action": "buy"},
        {"instrument": {"market-area": "TTF"}},
        {"instrument": {"load": "flat"}},
        {"quantity": {"amount": {"value": -1, "unit": "MW"}}},
        {"quote-deadline": "2026-03-02T08:00:00Z"},
        {
            "instrument": {
                "maturity": {"start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z"}
            }
        },
        {"colour": "red"},
        [],
    )
    for bad in bads:
        reply = await venue.control("POST", "/rfqs", bad)
        assert (reply.status, reply.body["error"]["code"]) == (400, "INVALID_CONTROL"), bad


async def test_counters_track_requests_and_never_show_the_key(venue: Venue) -> None:
    await venue.authenticate()
    for _ in range(3):
        await venue.call("GET", "/rfqs")
    await venue.send("GET", "/v2.2/rfqs")
    counters = await venue.counters()
    assert counters["requests"] == 5
    assert counters["by-route"] == {"POST /authenticate": 1, "GET /rfqs": 4}
    assert counters["by-status"] == {"200": 4, "403": 1}
    assert counters["forbidden"] == 1
    assert len(counters["request-times"]) == 5
    assert counters["max-requests-in-1s-window"] == 5
    text = str(counters)
    creds = venue.running.credentials
    for secret in (creds.api_key, creds.client_secret):
        assert secret.get_secret_value() not in text


def test_non_loopback_hosts_need_allow_remote() -> None:
    with pytest.raises(ValidationError, match="not loopback"):
        SandboxConfig(host="0.0.0.0")
    assert SandboxConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert SandboxConfig(host="::1").host == "::1"


async def test_run_sandbox_refuses_an_unchecked_remote_host() -> None:
    config = make_config().model_copy(update={"host": "0.0.0.0"})
    with pytest.raises(ValueError, match="non-loopback"):
        async with run_sandbox(config):
            pass


def test_credentials_from_config_env_or_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"QUOTER_CLIENT_ID": "i", "QUOTER_CLIENT_SECRET": "s", "QUOTER_API_KEY": "k"}
    creds, source = resolve_credentials(SandboxConfig(use_env_credentials=True), env)
    assert source is CredentialSource.ENVIRONMENT
    assert creds.api_key.get_secret_value() == "k"
    fixed = SandboxConfig(credentials=creds)
    assert resolve_credentials(fixed, {})[1] is CredentialSource.CONFIG
    one, source = resolve_credentials(SandboxConfig(), env)
    two, _ = resolve_credentials(SandboxConfig(), env)
    assert source is CredentialSource.GENERATED
    assert one.api_key != two.api_key


def test_command_config_and_credentials_file(tmp_path: Path) -> None:
    toml = tmp_path / "q.toml"
    toml.write_text(f'[sandbox]\nseed = 3\ncredentials_file = "{tmp_path}/var/c.env"\n')
    args = Namespace(config=toml, host=None, port=0, speed=60.0, seed=None)
    config = sandbox_config(args)
    assert (config.seed, config.port, config.speed) == (3, 0, 60.0)
    creds, source = resolve_credentials(config, {})

    class Running:
        base_url = "http://127.0.0.1:1"
        credentials = creds
        credential_source = source

    lines = describe(Running(), config)  # type: ignore[arg-type]
    path = tmp_path / "var" / "c.env"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert f"export QUOTER_API_KEY={creds.api_key.get_secret_value()}\n" in text
    for secret in (creds.api_key, creds.client_secret, creds.client_id):
        assert secret.get_secret_value() not in "\n".join(lines)
