"""Scoped kills mean what they say, end to end against the sandbox: spelt as the venue spells
them whatever the case typed, refused when they name nothing known (by the CLI before it
sends or writes, and by the admin interface), shown in `quoter status` one by one, and lifted
one at a time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from quoter.admin.config import TOKEN_VARIABLE
from quoter.cli import main
from quoter.engine.killswitch import KillSwitch, TradingState
from tests.admin.harness import TOKEN, admin_bot, bot_config, call
from tests.engine.harness import (
    Running,
    audit_records,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.engine.processes import QUOTER
from tests.venue.contract import counters, new_rfq


def _in(area: str) -> dict[str, Any]:
    rfq = month_ahead()
    rfq["instrument"] = {**rfq["instrument"], "market-area": area}  # type: ignore[dict-item]
    return rfq


async def _quoter(*args: str) -> subprocess.CompletedProcess[str]:
    """`quoter ARGS` as a desk runs it: its own process, off the event loop."""
    env = {**os.environ, TOKEN_VARIABLE: TOKEN}
    command = [str(QUOTER), *args]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=env, timeout=60, check=False
    )


async def _cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def _declined_killed(sandbox: Any, bot: Running, area: str) -> None:
    """A new RFQ in `area` is seen and declined as killed."""
    killed = bot.desk.stats.declined["killed"]
    await new_rfq(sandbox, **_in(area))
    await eventually(lambda: bot.desk.stats.declined["killed"] == killed + 1, f"{area} declined")


async def test_a_lower_case_area_kill_through_the_bot_stops_de_quoting(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        config = str(bot_config(tmp_path, url))
        await new_rfq(sandbox, **_in("DE"))
        await new_rfq(sandbox, **_in("FR"))
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "a DE and an FR quote")
        done = await _quoter("kill", "--config", config, "--area", "de", "--reason", "DE desk")
        assert done.returncode == 0, done.stderr
        assert "killed areas DE: DE desk" in done.stdout
        assert "kill 1, areas DE" in done.stdout
        assert "withdrawing 1 quotes it covers" in done.stdout
        assert bot.deps.killswitch.kills[0].scope.areas == {"DE"}
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the DE quote withdrawn")
        assert (await counters(sandbox))["live-quotes"] == 1  # FR's goes on
        await _declined_killed(sandbox, bot, "DE")
        sent = bot.desk.stats.quotes_sent
        await new_rfq(sandbox, **_in("FR"))
        await eventually(lambda: bot.desk.stats.quotes_sent == sent + 1, "FR still quoted")


async def test_a_lower_case_area_kill_in_the_latch_file_stops_de_quoting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, "a-token-nobody-serves-" + "x" * 10)
    config = str(bot_config(tmp_path))  # no admin interface answers: the latch file it is
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await new_rfq(sandbox, **_in("DE"))
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a DE quote")
        # 1: latched, but no credentials here for the command to withdraw at the venue itself
        assert await _cli("kill", "--config", config, "--area", "de", "--reason", "DE") == 1
        assert "latched as kill 1" in capsys.readouterr().out
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the DE quote withdrawn")
        await _declined_killed(sandbox, bot, "DE")
        assert bot.deps.killswitch.state is TradingState.ACTIVE  # scoped: not a halt


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [
        ("--area", "germany", "DE"),
        ("--product", "fortnight", "month"),
        ("--strategy", "nosuch", "curve-spread"),
    ],
)
async def test_an_unknown_scope_is_refused_before_anything_is_sent(
    option: str, value: str, listed: str, tmp_path: Path
) -> None:
    async with admin_bot(tmp_path) as (_sandbox, bot, url):
        done = await _quoter("kill", "--config", str(bot_config(tmp_path, url)), option, value)
        assert done.returncode == 2
        assert f"unknown {option[2:]} {value!r}" in done.stderr
        assert listed in done.stderr.split("known:")[1]
        assert not bot.deps.killswitch.kills
    assert [r for r in audit_records(tmp_path, "admin") if r["path"] == "/kill"] == []
    assert not (tmp_path / "kill.json").exists()


def test_an_unknown_scope_is_not_written_to_the_latch_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)  # no bot to ask: straight to the file
    config = str(bot_config(tmp_path))
    assert main(["kill", "--config", config, "--area", "de", "--strategy", "nosuch"]) == 2
    assert "unknown strategy 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "kill.json").exists()
    assert (
        main(["kill", "--config", config, "--strategy", "Curve_Spread"]) == 1
    )  # latched; 1: no credentials here to withdraw at the venue
    [kill] = KillSwitch(tmp_path / "kill.json").kills
    assert kill.scope.strategies == {"curve-spread"}  # as the configuration names it


async def test_the_admin_interface_refuses_an_unknown_scope_and_spells_a_known_one(
    tmp_path: Path,
) -> None:
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        await new_rfq(sandbox, **_in("DE"))
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a DE quote")
        status, refused = await call(url, "POST", "/kill", {"areas": ["xx"], "products": ["q"]})
        assert status == 400
        assert "unknown area 'xx' (known: AT, BE, CEGH-VTP, CH, DE" in refused["error"]
        assert "unknown product 'q' (known: day, weekend" in refused["error"]
        status, refused = await call(url, "POST", "/kill", {"strategies": ["nosuch"]})
        assert status == 400
        assert "known: curve-spread, inventory_skew" in refused["error"]
        assert not bot.deps.killswitch.kills
        body = {"areas": ["de"], "products": ["MONTH"], "strategies": ["CURVE_SPREAD"]}
        status, killed = await call(url, "POST", "/kill", body)
        assert status == 200
        assert killed["kill"]["scope"] == {
            "areas": ["DE"],
            "products": ["month"],
            "strategies": ["curve-spread"],
        }
        assert killed["withdrawing"] == 1
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the quote withdrawn")
    refused_kills = [r for r in audit_records(tmp_path, "admin") if r["outcome"] == 400]
    assert refused_kills[0]["detail"]["scope"]["areas"] == ["xx"]  # the trail shows what was asked


async def test_status_shows_each_kill_and_one_is_lifted_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        config = str(bot_config(tmp_path, url))
        assert await _cli("kill", "--config", config, "--area", "fr", "--reason", "FR desk") == 0
        assert await _cli("kill", "--config", config, "--product", "Day", "--reason", "days") == 0
        capsys.readouterr()
        assert await _cli("status", "--config", config) == 0
        shown = capsys.readouterr().out.splitlines()
        killed = [line for line in shown if line.startswith("KILLED")]
        assert len(killed) == 2
        assert killed[0].startswith("KILLED  FR desk — kill 1, areas FR, by ")
        assert killed[1].startswith("KILLED  days — kill 2, products day, by ")
        assert not any("[" in line for line in killed)  # no Python list repr
        assert await _cli("status", "--config", config, "--json") == 0
        kills = json.loads(capsys.readouterr().out)["kills"]
        assert [(k["id"], k["scope"]["areas"]) for k in kills] == [(1, ["FR"]), (2, [])]
        assert await _cli("resume", "--config", config, "--kill", "9") == 2
        assert "no kill 9 is latched (latched: 1, 2)" in capsys.readouterr().err
        assert len(bot.deps.killswitch.kills) == 2
        assert await _cli("resume", "--config", config, "--kill", "1") == 0
        assert "lifted: FR desk — kill 1, areas FR" in capsys.readouterr().out
        assert [k.reason for k in bot.deps.killswitch.kills] == ["days"]
        assert [k.id for k in KillSwitch(tmp_path / "kill.json").kills] == [2]
        await new_rfq(sandbox, **_in("FR"))
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "FR quoted again")
        status, refused = await call(url, "POST", "/resume", {"kills": [1]})
        assert (status, refused["error"]) == (
            400,
            "nothing lifted: no kill 1 is latched (latched: 2)",
        )


def test_one_kill_in_the_latch_file_is_lifted_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    config = str(bot_config(tmp_path))
    for area in ("de", "nl"):
        assert (
            main(["kill", "--config", config, "--area", area, "--reason", area]) == 1
        )  # latched; 1: no credentials here to withdraw at the venue
    assert main(["resume", "--config", config, "--kill", "3"]) == 2
    assert "no kill 3 is latched (latched: 1, 2)" in capsys.readouterr().err
    assert main(["resume", "--config", config, "--kill", "2"]) == 0
    assert "lifted: nl — kill 2, areas NL" in capsys.readouterr().out
    assert [(k.id, k.scope.areas) for k in KillSwitch(tmp_path / "kill.json").kills] == [
        (1, frozenset({"DE"}))
    ]


async def test_a_strategy_swapped_in_since_the_start_can_be_killed_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its configuration does not name it: the CLI asks the bot what it runs."""
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    swapped = "strategies.curve_spread:CurveSpread"
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        config = str(bot_config(tmp_path, url))
        assert await _cli("swap", swapped, "--config", config) == 0
        await new_rfq(sandbox, **_in("DE"))
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote by the swapped one")
        assert await _cli("kill", "--config", config, "--strategy", swapped.upper()) == 0
        assert "withdrawing 1 quotes it covers" in capsys.readouterr().out
        assert bot.deps.killswitch.kills[0].scope.strategies == {swapped}
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "its quote withdrawn")


def test_a_reason_the_bot_would_refuse_is_refused_before_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 400 from the bot is final (nothing is written behind its back): so the CLI refuses
    first what the bot would refuse."""
    with pytest.raises(SystemExit) as exited:
        main(["kill", "--config", str(bot_config(tmp_path)), "--reason", "x" * 301])
    assert exited.value.code == 2
    assert "--reason: 1 to 300 characters" in capsys.readouterr().err
