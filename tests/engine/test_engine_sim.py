"""The engine's behaviour on a SimVenue and virtual time: kills, and reading every open RFQ at a
start. Moved from test_engine_e2e.py; the same promises over a real socket: the kill and what
follows it in test_engine_e2e.py::test_quoter_kill_and_resume_reach_a_running_bot and
test_auto_kills.py (a killed decline, nothing sent), paging over HTTP in
test_engine_e2e.py::test_rfqs_read_by_a_poll_that_then_fails_are_still_priced."""

from __future__ import annotations

from pathlib import Path

from quoter.engine.killswitch import Kill, KillSwitch, TradingState
from tests.engine.harness import audit_records, engine_config, eventually
from tests.engine.sim import arriving, sim_engine, virtual


@virtual
async def test_a_kill_withdraws_everything_and_nothing_is_quoted_after(tmp_path: Path) -> None:
    rfqs = [arriving(n) for n in range(5)] + [arriving(5, at_s=60)]
    async with sim_engine(tmp_path, rfqs) as bot:
        await eventually(lambda: bot.ctx.stats.quotes_sent == 5, "five quotes")
        assert bot.live_quotes() == 5
        bot.engine.kill(Kill(reason="desk says stop", by="test", at=bot.ctx.clock.now()))
        await eventually(lambda: bot.ctx.stats.withdrawn == 5, "five withdrawals")
        assert bot.live_quotes() == 0
        await eventually(lambda: bot.ctx.stats.declined["killed"] == 1, "a killed decline", 120)
        assert bot.ctx.stats.quotes_sent == 5
    assert KillSwitch(tmp_path / "kill.json").state is TradingState.HALTED


@virtual
async def test_a_start_reads_every_open_rfq_however_many_pages_they_take(tmp_path: Path) -> None:
    # Each its own instant, well apart, all open before the start.
    rfqs = [arriving(n, at_s=-40 + 5 * n) for n in range(7)]
    # Pages of 2, at most 2 a poll: the 7 open RFQs take 4 pages, listed newest first.
    config = engine_config(tmp_path, page_limit=2, max_pages_per_poll=2)
    async with sim_engine(tmp_path, rfqs, config=config) as bot:
        await eventually(lambda: bot.ctx.stats.quotes_sent == 7, "a quote on each")
        seen = {r["rfq"]["id"] for r in audit_records(tmp_path, "rfq")}
    assert seen == {r.id for r in rfqs}
    assert not audit_records(tmp_path, "start-cut-short")


@virtual
async def test_a_start_that_cannot_read_every_open_rfq_says_so(tmp_path: Path) -> None:
    rfqs = [arriving(n, at_s=-10 + n) for n in range(3)]
    config = engine_config(tmp_path, page_limit=2, max_pages_at_start=1)
    async with sim_engine(tmp_path, rfqs, config=config):
        await eventually(lambda: bool(audit_records(tmp_path, "start-cut-short")), "the cut")
    assert audit_records(tmp_path, "start-cut-short")[0]["read"] == 2
