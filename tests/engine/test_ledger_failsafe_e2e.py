"""The bot against the sandbox with a quota ledger it cannot trust: nothing new is quoted, what is
live can still be withdrawn, and the status and the metric say fail-safe."""

from __future__ import annotations

from pathlib import Path

from quoter.engine.health import LEDGER_CONDITION
from quoter.engine.killswitch import Kill, TradingState
from quoter.engine.status import render_status, status_of
from quoter.metrics.collector import build_registry
from quoter.sandbox.server import RunningSandbox
from quoter.venue.http import HttpVenue
from tests.engine.harness import (
    Running,
    eventually,
    fast_sandbox,
    left_by_a_crash,
    month_ahead,
    running_engine,
)
from tests.venue.contract import counters, new_rfq


def _failsafe_shown(bot: Running) -> str:
    """What the status and the metric say; the metric must read 1."""
    assert isinstance(bot.deps.venue, HttpVenue)
    registry = build_registry(bot.deps, bot.desk, bot.deps.venue.stats, process=False)
    assert registry.get_sample_value("quoter_quota_ledger_failsafe") == 1.0
    status = status_of(bot.deps, bot.desk, bot.engine.last_plan)
    assert bot.deps.killswitch.state is TradingState.REDUCING
    assert LEDGER_CONDITION in status["conditions"]  # type: ignore[operator]
    assert "FAIL-SAFE" in render_status(status)
    why = status["quota-ledger-failsafe"]
    assert isinstance(why, str)
    return why


async def _nothing_new_then_a_kill_withdraws(
    bot: Running, sandbox: RunningSandbox, live: int
) -> None:
    sent = bot.desk.stats.quotes_sent
    await new_rfq(sandbox, **month_ahead())
    bot.engine.wake()
    await eventually(lambda: bot.engine.last_plan.reason == "quota ledger fail-safe", "held")
    assert bot.desk.stats.quotes_sent == sent
    bot.engine.kill(Kill(reason="desk says stop", by="test", at=bot.deps.clock.now()))
    await eventually(lambda: bot.desk.stats.withdrawn == live, "the withdrawals")
    assert (await counters(sandbox))["live-quotes"] == 0


async def test_a_ledger_damaged_mid_run_stops_quoting_but_not_withdrawing(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.json"
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        for _ in range(3):
            await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 3, "three quotes")
        ledger.write_text('{"version": 1, "keys": {"x": {"day": "2026-03-02", "spent": -4')
        await eventually(lambda: LEDGER_CONDITION in bot.deps.killswitch.conditions, "held")
        assert str(ledger) in _failsafe_shown(bot)
        await _nothing_new_then_a_kill_withdraws(bot, sandbox, live=3)
        assert ledger.read_text().endswith('"spent": -4')  # left for a person to look at


async def test_a_ledger_unwritable_mid_run_goes_failsafe(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        for _ in range(2):
            await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "two quotes")
        (tmp_path / "ledger.json.tmp").mkdir()  # the next atomic write cannot create its file
        await eventually(lambda: LEDGER_CONDITION in bot.deps.killswitch.conditions, "held")
        assert "cannot write" in _failsafe_shown(bot)
        await _nothing_new_then_a_kill_withdraws(bot, sandbox, live=2)


async def test_a_start_on_a_damaged_ledger_withdraws_what_is_live_and_quotes_nothing(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, first) as bot:
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            crashed = next(iter(bot.desk.quotes))
        await left_by_a_crash(sandbox, first, crashed)
        second.mkdir()
        (second / "ledger.json").write_bytes(b"\x00\x01garbage\xff")
        async with running_engine(sandbox, second) as bot:
            await eventually(lambda: bot.desk.stats.withdrawn == 1, "the orphan withdrawn")
            assert (await counters(sandbox))["live-quotes"] == 0
            await eventually(lambda: LEDGER_CONDITION in bot.deps.killswitch.conditions, "held")
            await new_rfq(sandbox, **month_ahead())
            _failsafe_shown(bot)
            assert bot.desk.stats.quotes_sent == 0
            assert not bot.deps.killswitch.kills  # held, not killed: it lifts when fixed
