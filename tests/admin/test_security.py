"""The admin interface refuses calls without the token, with a wrong one, or naming a foreign
Host; it binds loopback only unless told otherwise; the token is in no log and no audit record."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from quoter.admin.config import (
    TOKEN_VARIABLE,
    AdminConfig,
    AdminTokenError,
    create_token_file,
    read_token,
)
from quoter.admin.server import serve_admin
from quoter.basics.errors import ConfigError
from quoter.config import parse_config
from quoter.metrics.collector import build_registry
from quoter.venue.stats import VenueStats
from tests.admin.harness import TOKEN, admin_bot, call
from tests.engine.harness import audit_records


async def test_no_token_wrong_token_and_wrong_scheme_are_refused(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (_sandbox, bot, url):
        answers = [
            await call(url, "GET", "/status", token=None),
            await call(url, "GET", "/status", token="x" * 32),
            await call(url, "GET", "/status", token=TOKEN + "x"),
            await call(url, "POST", "/kill", {}, token=None),
            await call(url, "GET", "/status", token=None, headers={"Authorization": TOKEN}),
            await call(
                url, "GET", "/status", token=None, headers={"Authorization": f"Basic {TOKEN}"}
            ),
        ]
        ok, _ = await call(url, "GET", "/status")
        assert [status for status, _ in answers] == [401] * 6
        assert ok == 200
        assert not bot.deps.killswitch.kills  # the refused kill did nothing
    admin = audit_records(tmp_path, "admin")
    assert [r["outcome"] for r in admin] == [200]
    refused = audit_records(tmp_path, "admin-refused")  # the first at once, the rest at the end
    assert [r["refused"] for r in refused] == [{"unauthorised": 1}, {"unauthorised": 5}]
    assert {w for r in refused for w in r["who"]} == {"tester"}


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", "10.0.0.1:{port}"]
)
async def test_a_foreign_host_header_is_refused(tmp_path: Path, host: str) -> None:
    async with admin_bot(tmp_path) as (_sandbox, _bot, url):
        port = url.rsplit(":", 1)[1]
        status, answer = await call(url, "GET", "/status", headers={"Host": host.format(port=port)})
        allowed = [
            (await call(url, "GET", "/status", headers={"Host": f"{name}:{port}"}))[0]
            for name in ("127.0.0.1", "localhost", "LOCALHOST")
        ]
    assert status == 403
    assert answer == {"error": "Host not allowed"}
    assert allowed == [200, 200, 200]
    assert [r["outcome"] for r in audit_records(tmp_path, "admin")] == [200, 200, 200]
    assert [r["refused"] for r in audit_records(tmp_path, "admin-refused")] == [{"host": 1}]


async def test_a_flood_of_bad_tokens_is_counted_and_summarised_not_recorded_each(
    tmp_path: Path,
) -> None:
    async with admin_bot(tmp_path) as (_sandbox, bot, url):
        port = url.rsplit(":", 1)[1]
        for i in range(100):
            status, _ = await call(url, "GET", "/status", token=f"wrong-{i:04d}-" + "x" * 20)
            assert status == 401
        for _ in range(3):
            await call(url, "GET", "/status", headers={"Host": f"evil.example:{port}"})
        registry = build_registry(bot.deps, bot.desk, VenueStats(), process=False)
        token = registry.get_sample_value("quoter_admin_refused_total", {"reason": "unauthorised"})
        host = registry.get_sample_value("quoter_admin_refused_total", {"reason": "host"})
        assert (token, host) == (100, 3)
        assert not bot.deps.killswitch.kills  # no audit flood, no automatic kill
    refused = audit_records(tmp_path, "admin-refused")
    assert len(refused) <= 3
    assert sum(sum(r["refused"].values()) for r in refused) == 103
    assert not audit_records(tmp_path, "admin")


def test_a_non_loopback_bind_is_refused_unless_configured() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com"):
        with pytest.raises(ValidationError, match="not loopback"):
            AdminConfig(host=host)
        with pytest.raises(ConfigError, match=r"admin: .*not loopback"):
            parse_config({"admin": {"host": host}})
    assert AdminConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert AdminConfig(host="::1").url(9) == "http://[::1]:9"


async def test_serving_refuses_a_non_loopback_host_that_slipped_past_validation() -> None:
    config = AdminConfig.model_construct(host="0.0.0.0", port=0, allow_remote=False)
    with pytest.raises(ValueError, match="not loopback"):
        async with serve_admin(config, None, SecretStr(TOKEN)):  # type: ignore[arg-type]
            pass


async def test_the_token_is_in_no_log_and_no_audit_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with admin_bot(tmp_path) as (_sandbox, _bot, url):
        await call(url, "GET", "/status")
        await call(url, "GET", "/status", token=TOKEN[:-1])
        await call(url, "POST", "/swap", {"name": "curve_spread", "params": {"nope": 1}})
        await call(url, "POST", "/kill", {"reason": "test"})
        await call(url, "POST", "/resume", {})
    trail = b"".join(p.read_bytes() for p in (tmp_path / "audit").glob("*.jsonl"))
    assert b"nope" in trail  # the refused swap is on the trail
    assert b"strategy-swap-refused" in trail
    assert TOKEN[:-1].encode() not in trail  # neither the token nor the wrong one
    assert caplog.text  # the kill and the swap were logged
    assert TOKEN[:-1] not in caplog.text


def test_the_token_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    config = AdminConfig(token_file=path)
    with pytest.raises(AdminTokenError, match=f"there is no {path}") as missing:
        read_token(config, {})
    assert TOKEN_VARIABLE in str(missing.value)
    made = create_token_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_token(config, {}).get_secret_value() == made.get_secret_value()
    assert read_token(config, {TOKEN_VARIABLE: TOKEN}).get_secret_value() == TOKEN
    with pytest.raises(AdminTokenError, match="shorter") as short:
        read_token(config, {TOKEN_VARIABLE: "secret"})
    assert "secret" not in str(short.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_a_token_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "token"
    made = create_token_file(path)
    path.chmod(mode)
    with pytest.raises(AdminTokenError, match=rf"{path}.*group or others.*chmod 600") as shared:
        read_token(AdminConfig(token_file=path), {})
    assert made.get_secret_value() not in str(shared.value)
    path.chmod(0o600)
    assert read_token(AdminConfig(token_file=path), {}) == made
