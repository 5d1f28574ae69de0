"""A kill latch damaged or removed under a running bot is never read as "no kill": the bot
halts, a desk's kill made meanwhile is held and said to be held in memory only, the kills are
written back once the file can be written, and only `quoter resume` lifts them. Against the
sandbox, `quoter kill` and `quoter resume` run as the desk runs them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from quoter.admin.config import TOKEN_VARIABLE
from quoter.cli import main
from quoter.engine.killswitch import KillSwitch, TradingState
from quoter.metrics.engine_metrics import trading
from tests.admin.harness import TOKEN, admin_bot, bot_config
from tests.engine.harness import Running, eventually, month_ahead
from tests.venue.contract import new_rfq


async def _cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


def _unwritten_gauge(bot: Running) -> float:
    """What ops sees on the dashboard: the kills the latch file does not hold."""
    found = [
        s.value
        for family in trading(bot.deps, bot.desk)
        for s in family.samples
        if s.name == "quoter_kill_switch_unwritten"
    ]
    assert len(found) == 1
    return found[0]


async def _halted_by_the_damage(bot: Running, latch: Path) -> None:
    await asyncio.to_thread(latch.write_text, "garbage{", encoding="utf-8")
    await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "halted")


async def test_a_desk_kill_made_on_a_damaged_latch_holds_until_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    latch = tmp_path / "kill.json"
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        config = str(bot_config(tmp_path, url))
        await _halted_by_the_damage(bot, latch)
        capsys.readouterr()
        assert await _cli("kill", "--config", config, "--reason", "desk says stop") == 1
        said = capsys.readouterr()
        assert "NOT LATCHED on disk" in said.err
        assert "unreadable kill latch" in said.err
        assert "nothing new" not in said.out
        assert await _cli("status", "--config", config) == 0
        shown = capsys.readouterr().out
        assert "LATCH   NOT WRITTEN: " in shown
        assert "kill 1, 2 held in memory only" in shown
        assert _unwritten_gauge(bot) == 2  # a restart now would forget them: an alert says so
        latch.unlink()  # "repaired" by removing it
        switch = bot.deps.killswitch
        await eventually(lambda: not switch.unwritten, "the kills written back")
        assert _unwritten_gauge(bot) == 0
        assert switch.state is TradingState.HALTED
        on_disk = KillSwitch(latch).kills
        assert [k.reason for k in on_disk][1:] == ["desk says stop"]
        assert on_disk[0].reason.startswith("kill latch unreadable")
        sent = bot.desk.stats.quotes_sent
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.declined["killed"] == 1, "declined as killed")
        assert bot.desk.stats.quotes_sent == sent
        capsys.readouterr()
        assert await _cli("resume", "--config", config) == 0
        assert "lifted: desk says stop" in capsys.readouterr().out
        assert bot.deps.killswitch.state in {TradingState.ACTIVE}  # read anew, not narrowed


async def test_a_resume_through_the_bot_on_a_damaged_latch_lifts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    latch = tmp_path / "kill.json"
    async with admin_bot(tmp_path) as (_, bot, url):
        config = str(bot_config(tmp_path, url))
        await _halted_by_the_damage(bot, latch)
        capsys.readouterr()
        assert await _cli("resume", "--config", config) == 2
        said = capsys.readouterr()
        assert said.err.startswith("quoter resume: 409: nothing lifted: ")
        assert "unreadable kill latch" in said.err
        assert "not through the bot" not in said.err  # the bot said no: no fallback
        assert "Traceback" not in said.err
        assert bot.deps.killswitch.state is TradingState.HALTED
        assert latch.read_text(encoding="utf-8") == "garbage{"
