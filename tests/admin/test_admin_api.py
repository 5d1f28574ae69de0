"""status, kill, resume and swap through the real admin interface of an engine quoting the
sandbox: over HTTP, and as `quoter status|kill|resume|swap` run them."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from quoter.admin.config import TOKEN_VARIABLE
from quoter.audit.events import Unknown
from quoter.cli import main
from quoter.commands import _venue_kill
from quoter.config import load_config
from quoter.engine.kill_scope import Scope
from quoter.engine.killswitch import KillSwitch, TradingState
from quoter.venue.config import CREDENTIAL_VARIABLES
from strategies import curve_spread
from tests.admin.harness import TOKEN, admin_bot, bot_config, call, free_port
from tests.engine.harness import audit_records, eventually
from tests.venue.contract import counters, new_rfq

# The built-in's version as the trail records it: it declares none, so its code's digest.
CURVE_SPREAD_SOURCE = hashlib.sha256(Path(curve_spread.__file__).read_bytes()).hexdigest()
CURVE_SPREAD_VERSION = f"source {CURVE_SPREAD_SOURCE[:12]}"

MONTH_AHEAD = {
    "instrument": {
        "load": "base",
        "maturity": {"start": "2026-03-31T22:00:00.000Z", "end": "2026-04-30T22:00:00.000Z"},
        "product": {"type": "month", "label": "Apr-26"},
    }
}


async def _cli(*args: str) -> int:
    """`quoter ARGS` off the event loop, as from another terminal."""
    return await asyncio.to_thread(main, list(args))


async def test_status_kill_resume_and_swap_over_http(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        for _ in range(2):
            await new_rfq(sandbox, **MONTH_AHEAD)
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "two quotes")
        status, state = await call(url, "GET", "/status")
        assert (status, state["state"], state["quotes-sent"]) == (200, "active", 2)
        assert state["strategy"] == "curve-spread"
        status, killed = await call(url, "POST", "/kill", {"reason": "lunch", "by": "ann"})
        assert (status, killed["state"]) == (200, "halted")
        await eventually(lambda: bot.desk.stats.withdrawn == 2, "withdrawn at once")
        assert (await counters(sandbox))["live-quotes"] == 0
        status, resumed = await call(url, "POST", "/resume", {})
        assert status == 200
        assert [k["reason"] for k in resumed["lifted"]] == ["lunch"]
        assert resumed["state"] == "active"
        params = {"credit_default_eur_mwh": 0.4}
        status, swapped = await call(
            url, "POST", "/swap", {"name": "curve_spread", "params": params}
        )
        assert status == 200
        new = {"name": "curve_spread", "params": params, "version": CURVE_SPREAD_VERSION}
        assert swapped["new"] == new
        assert bot.desk.strategy.params == params
        status, refused = await call(url, "POST", "/kill", {"reason": "", "bogus": 1})
        assert status == 400
        assert "bogus" in refused["error"]
    kinds = [(r["path"], r["outcome"]) for r in audit_records(tmp_path, "admin")]
    assert kinds == [
        ("/status", 200),
        ("/kill", 200),
        ("/resume", 200),
        ("/swap", 200),
        ("/kill", 400),
    ]
    kill = audit_records(tmp_path, "admin")[1]["detail"]
    assert kill["by"] == "ann (admin)"
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.ACTIVE
    [swap] = audit_records(tmp_path, "strategy-swap")
    # The same code before and after: the record says so by its version.
    version = CURVE_SPREAD_VERSION
    assert swap["old"] == {"name": "curve-spread", "params": {}, "version": version}
    params = {"credit_default_eur_mwh": 0.4}
    assert swap["new"] == {"name": "curve_spread", "params": params, "version": version}


async def test_the_cli_talks_to_the_running_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        config = str(bot_config(tmp_path, url))
        await new_rfq(sandbox, **MONTH_AHEAD)
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote")
        assert await _cli("status", "--config", config, "--json") == 0
        status = json.loads(capsys.readouterr().out)
        assert status["quotes-sent"] == 1
        assert await _cli("status", "--config", config) == 0
        assert "state ACTIVE" in capsys.readouterr().out
        assert await _cli("kill", "--config", config, "--area", "DE", "--reason", "DE") == 0
        assert "through the bot" in capsys.readouterr().out
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the DE quote withdrawn")
        assert bot.deps.killswitch.kills[0].scope.areas == {"DE"}
        assert await _cli("resume", "--config", config) == 0
        assert "lifted: DE" in capsys.readouterr().out
        assert not bot.deps.killswitch.kills
        swap = ("swap", "curve_spread", "--param", "credit_default_eur_mwh=0.3")
        assert await _cli(*swap, "--config", config) == 0
        assert bot.desk.strategy.params == {"credit_default_eur_mwh": 0.3}
        bad = ("swap", "curve_spread", "--param", "credit_default_eur_mwh=-1")
        assert await _cli(*bad, "--config", config) == 2
        assert "the old strategy goes on quoting" in capsys.readouterr().err
        assert bot.desk.strategy.params == {"credit_default_eur_mwh": 0.3}
        assert await _cli("swap", "x", "--param", "nokey", "--config", config) == 2
    users = {r["who"] for r in audit_records(tmp_path, "admin")}
    assert len(users) == 1
    assert "unknown" not in users  # the CLI says who calls


async def test_a_kill_goes_through_though_the_config_file_has_been_broken_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A limit mistyped in the file while the bot runs: the kill reads where the bot listens
    and where its latch is, leaves the mistake out and says so. A mistake in those refuses."""
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        broken = '[risk.collar]\nmax_distance_eur_mwh = 15.0\nmax_open_quotes = "x"\n'
        config = str(bot_config(tmp_path, url, extra=broken))
        await new_rfq(sandbox, **MONTH_AHEAD)
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote")
        assert await _cli("status", "--config", config) == 2  # others refuse the file as ever
        capsys.readouterr()
        assert await _cli("kill", "--config", config, "--reason", "typo day") == 0
        said = capsys.readouterr()
        assert "through the bot" in said.out
        assert "left out for this kill" in said.err
        assert "risk.collar.max_open_quotes: unknown key" in said.err
        assert [k.reason for k in bot.deps.killswitch.kills] == ["typo day"]
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "withdrawn")
        path = bot_config(tmp_path, url, extra="[admin.nonsense]\nx = 1\n")
        assert await _cli("kill", "--config", str(path)) == 2  # where is the bot? not guessed
        assert "admin.nonsense" in capsys.readouterr().err


def test_a_kill_that_cannot_reach_the_venue_says_each_failure_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The venue unreachable for the sweep's whole time: each distinct line once, not at
    every retry (a kill from a desk in trouble must stay readable)."""
    monkeypatch.setattr(_venue_kill, "SWEEP_TIMEOUT_S", 1.5)
    for name, variable in CREDENTIAL_VARIABLES.items():
        monkeypatch.setenv(variable, f"test-{name}-0123456789")
    extra = (
        f'[venue]\nbase_url = "http://127.0.0.1:{free_port()}"\nallow_http = true\n'
        f'[venue.usage_plan]\nledger_path = "{tmp_path / "ledger.json"}"\n'
    )
    config = load_config(bot_config(tmp_path, extra=extra))
    assert _venue_kill.withdraw_without_bot(config, Scope()) == 1
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == len(set(said)) >= 1, said  # every line once
    assert any("connection failed" in m for m in said), said


async def test_a_resume_the_bot_refuses_is_not_redone_through_the_latch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong admin token: the bot answers 401 and lifts nothing, and neither does the file
    (a kill with it still latches: stopping is never refused)."""
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    async with admin_bot(tmp_path) as (_, bot, url):
        config = str(bot_config(tmp_path, url))
        assert await _cli("kill", "--config", config, "--reason", "desk says stop") == 0
        monkeypatch.setenv(TOKEN_VARIABLE, "not-the-token-" + "x" * 20)
        capsys.readouterr()
        assert await _cli("resume", "--config", config) == 2
        said = capsys.readouterr()
        assert "nothing lifted" in said.err
        assert "kill-switch file" not in said.err
        assert [k.reason for k in bot.deps.killswitch.kills] == ["desk says stop"]
        assert [k.reason for k in KillSwitch(tmp_path / "kill.json").kills] == ["desk says stop"]
        assert bot.deps.killswitch.state is TradingState.HALTED


async def test_kill_and_resume_fall_back_to_the_latch_when_no_bot_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, "a-token-nobody-serves-" + "x" * 10)
    for variable in CREDENTIAL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    config = str(bot_config(tmp_path))  # a port nothing listens on
    # No venue credentials in the environment: latched, nothing withdrawn, said, exit 1.
    assert main(["kill", "--config", config, "--reason", "night"]) == 1
    out = capsys.readouterr()
    assert "no bot answering" in out.err
    assert "kill-switch file" in out.err
    assert "no venue credentials in the environment" in out.err
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.HALTED
    assert main(["status", "--config", config]) == 1  # no bot: what the file holds, shown
    said = capsys.readouterr().err
    assert "no bot answering" in said
    assert "KILLED  night — kill 1, everything" in said, said
    assert main(["resume", "--config", config]) == 0
    assert "lifted: night" in capsys.readouterr().out
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.ACTIVE
    assert main(["status", "--config", config]) == 1
    assert "no bot answering" in capsys.readouterr().err
    monkeypatch.delenv(TOKEN_VARIABLE)
    assert main(["kill", "--config", config]) == 1  # no token at all: the latch still works
    assert "no admin token" in capsys.readouterr().err
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.HALTED


async def test_the_shadow_report_names_a_record_it_cannot_read(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (_, bot, url):
        status, found = await call(url, "GET", "/shadow")
        assert (status, found["decisions"], found["shadow"]) == (200, 0, None)
        bot.deps.audit.write(Unknown("shadow", {"rfq-id": "r-1"}), bot.deps.clock.now())
        status, refused = await call(url, "GET", "/shadow")
    assert status == 500
    assert "shadow record (seq " in refused["error"]
    assert "): strategy is missing" in refused["error"]


def test_a_kill_run_from_another_folder_than_the_bots_latches_the_bots_latch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A relative latch path was read from the folder a command ran in: from any other folder
    than the bot's, `quoter kill` wrote a latch no bot reads. A configuration's relative paths
    are now taken from its own folder: the kill is the bot's from anywhere."""
    for variable in CREDENTIAL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    desk, elsewhere = tmp_path / "desk", tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = desk / "bot.toml"
    desk.mkdir()
    config.write_text(
        '[engine.kill]\nlatch_path = "var/kill.json"\n'
        f'[admin]\nport = {free_port()}\ntoken_file = "{tmp_path / "no-token"}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(elsewhere)
    assert main(["kill", "--config", "../desk/bot.toml"]) == 1  # no credentials to withdraw
    assert "latched as kill 1" in capsys.readouterr().out
    assert KillSwitch(desk / "var" / "kill.json").state is TradingState.HALTED
    assert not (elsewhere / "var").exists()
    assert main(["status", "--config", "../desk/bot.toml"]) == 1  # no bot answers
    assert "manual kill" in capsys.readouterr().err
    assert main(["resume", "--config", str(config)]) == 0
    assert KillSwitch(desk / "var" / "kill.json").state is TradingState.ACTIVE


def test_a_demo_kill_run_from_another_folder_than_the_demos_is_not_said_latched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo (no --config) keeps its state under var/demo of the folder it runs in: a kill
    from another folder, where no demo has run, would write a latch no bot reads."""
    for variable in CREDENTIAL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["kill"]) == 1
    said = capsys.readouterr()
    assert "NOT LATCHED: no bot has used the kill latch var/demo/kill-latch.json here" in said.err
    assert str(tmp_path) in said.err
    assert "latched as kill" not in said.out
    assert not (tmp_path / "var" / "demo" / "kill-latch.json").exists()
    assert main(["resume"]) == 2
    assert "nothing lifted: no bot has used the kill latch" in capsys.readouterr().err
    assert main(["status"]) == 1  # not "no kill latched"
    assert "quoter status: no bot has used the kill latch" in capsys.readouterr().err
