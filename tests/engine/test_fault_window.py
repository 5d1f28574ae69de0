"""The strategy fault-rate kill: it is on the audit trail, and it counts the faults of the
strategy quoting: once a failing strategy is swapped out and the desk resumes, the new one
quotes; it is not killed again on faults it never made. (SimVenue, virtual time; the kill
itself is test_engine_sim.py's.)"""

from __future__ import annotations

from pathlib import Path

from quoter.engine.killswitch import TradingState
from quoter.engine.state import StrategySlot
from strategies.curve_spread import CurveSpread
from tests.engine.harness import audit_records, eventually
from tests.engine.sim import Broken, arriving, sim_engine, sim_venue, virtual


@virtual
async def test_a_resume_after_swapping_a_failing_strategy_out_quotes_again(tmp_path: Path) -> None:
    first = [arriving(n) for n in range(12)]
    later = [arriving(n, at_s=600.0) for n in range(12, 17)]
    async with sim_engine(tmp_path, sim_venue(first + later), strategy=Broken()) as bot:
        await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "the kill")
        bot.engine.swap(StrategySlot("curve-spread", CurveSpread()), by="desk", source="test")
        bot.engine.resume("desk")
        # The first twelve, still open, are priced again by the new strategy; then the later.
        await eventually(lambda: bot.desk.stats.quotes_sent == 12, "the open RFQs quoted", 300)
        await eventually(lambda: bot.desk.stats.quotes_sent == 17, "the later RFQs quoted", 900)
        assert bot.deps.killswitch.state is TradingState.ACTIVE
        assert bot.desk.stats.kills == 1  # the failing strategy's, and no other


@virtual
async def test_the_engines_own_kill_is_on_the_audit_trail(tmp_path: Path) -> None:
    async with sim_engine(tmp_path, sim_venue([arriving(n) for n in range(12)]), strategy=Broken()):
        await eventually(lambda: bool(audit_records(tmp_path, "kill-switch")), "the kill's record")
    [record] = audit_records(tmp_path, "kill-switch")
    assert record["state"] == "halted"
    assert record["kills"] == ["kill 1: strategy fault rate 100% (by engine)"]
