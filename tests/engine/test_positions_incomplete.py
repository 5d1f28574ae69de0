"""A start whose position rebuild could not count every trade quotes nothing until it can: the
position and credit limits are checked against a book short of the desk's real exposure. Over
HTTP against the sandbox, whose stored trade is made unreadable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from quoter.engine.positions import CONDITION, RETRY_S
from quoter.sandbox.server import RunningSandbox
from tests.engine.harness import (
    DEADLINE_S,
    WIN,
    audit_records,
    engine_config,
    eventually,
    fast_sandbox,
    left_by_a_crash,
    month_ahead,
    running_engine,
)
from tests.venue.contract import advance, counters, new_rfq


async def _a_trade(sandbox: RunningSandbox, tmp_path: Path) -> str:
    async with running_engine(sandbox, tmp_path) as bot:
        await new_rfq(sandbox, **month_ahead(), **WIN)  # 10 MW over April: 7,200 MWh
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        await advance(sandbox, DEADLINE_S + 1)
        await eventually(lambda: bot.desk.stats.won == 1, "the win")
    (trade_id,) = sandbox.state.trades
    return trade_id


async def test_a_trade_the_rebuild_cannot_read_holds_quoting_until_it_reads(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        trade_id = await _a_trade(sandbox, first)
        whole = sandbox.state.trades[trade_id]
        sandbox.state.trades[trade_id] = replace(whole, short_id="")  # the venue's bad row
        async with running_engine(sandbox, second, run_id="second") as bot:
            await eventually(lambda: bool(audit_records(second, "reconciled")), "reconciled")
            held = bot.deps.killswitch.conditions.get(CONDITION, "")
            assert trade_id in held, held
            assert "short-id" in held, held
            await new_rfq(sandbox, **month_ahead("Apr-26 again"), **WIN)
            await eventually(lambda: bot.desk.stats.declined["reducing"] == 1, "held")
            assert bot.desk.stats.quotes_sent == 0
            sandbox.state.trades[trade_id] = whole  # mended: the next read is whole
            await advance(sandbox, RETRY_S + 1)
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoting again", 20)
            assert CONDITION not in bot.deps.killswitch.conditions
            assert bot.desk.book.positions_mwh  # the mended trade counts
    partial, whole_again = audit_records(second, "positions-loaded")
    assert partial["complete"] is False
    assert partial["trades"] == 0
    assert [trade_id in u for u in partial["unreadable"]] == [True]
    assert whole_again["complete"] is True
    assert whole_again["trades"] == 1


async def test_a_quote_found_live_beside_an_unreadable_trade_is_withdrawn_not_adopted(
    tmp_path: Path,
) -> None:
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    async with fast_sandbox() as sandbox:
        trade_id = await _a_trade(sandbox, first)
        whole = sandbox.state.trades[trade_id]
        sandbox.state.trades[trade_id] = replace(whole, short_id="")
        async with running_engine(sandbox, second, run_id="second") as bot:
            await new_rfq(sandbox, **month_ahead("Apr-26 again"), **WIN)
            await eventually(lambda: bot.desk.stats.declined["reducing"] == 1, "held")
        sandbox.state.trades[trade_id] = whole
        async with running_engine(sandbox, second / "quoting", run_id="quoting") as bot:
            await new_rfq(sandbox, **month_ahead("Apr-26 once more"), **WIN)
            await eventually(lambda: bot.desk.stats.quotes_sent >= 1, "a quote")
            crashed = next(iter(bot.desk.quotes))
        await left_by_a_crash(sandbox, second, crashed)
        sandbox.state.trades[trade_id] = replace(whole, short_id="")
        config = engine_config(third, reconcile="adopt")
        async with running_engine(sandbox, third, config=config, run_id="third") as bot:
            await eventually(lambda: bool(audit_records(third, "reconciled")), "reconciled")
            assert (await counters(sandbox))["live-quotes"] == 0
            assert CONDITION in bot.deps.killswitch.conditions
    (reconciled,) = audit_records(third, "reconciled")
    assert reconciled["found-live"] == 1
    assert reconciled["adopted"] == 0
