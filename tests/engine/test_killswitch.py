from pathlib import Path

import pytest

from quoter.engine.killswitch import Kill, KillSwitch, LatchError, Scope, TradingState
from tests.factories import T0


def test_a_full_kill_halts_and_is_latched_across_restarts(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    states = [switch.state]
    switch.kill(Kill(reason="error rate", by="engine", at=T0))
    states.append(switch.state)
    assert states == [TradingState.ACTIVE, TradingState.HALTED]
    restarted = KillSwitch(latch)
    assert restarted.state is TradingState.HALTED
    assert restarted.kills[0].reason == "error rate"
    assert restarted.blocked_by("DE", "year", "curve-spread") == "killed: error rate"
    assert [k.reason for k in restarted.resume()] == ["error rate"]
    assert KillSwitch(latch).state is TradingState.ACTIVE


def test_a_scoped_kill_blocks_only_what_it_covers(tmp_path: Path) -> None:
    switch = KillSwitch(tmp_path / "kill.json")
    switch.kill(Kill(reason="desk", by="ops", at=T0, scope=Scope(areas=frozenset({"FR"}))))
    assert switch.state is TradingState.ACTIVE
    assert switch.blocked_by("FR", "month", "s") == "killed: desk"
    assert switch.blocked_by("DE", "month", "s") is None


def test_conditions_reduce_and_lift_by_themselves() -> None:
    switch = KillSwitch(None)
    switch.set_condition("curve-stale", "DE power 40 h old")
    states = [switch.state]
    assert switch.blocked_by("DE", "month", "s") == "reducing: curve-stale"
    switch.clear_condition("curve-stale")
    states.append(switch.state)
    assert states == [TradingState.REDUCING, TradingState.ACTIVE]


def test_an_unreadable_latch_refuses_to_start(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    latch.write_text("{not json")
    with pytest.raises(LatchError, match=r"kill\.json: unreadable kill latch"):
        KillSwitch(latch)


def test_a_failed_latch_write_still_kills_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    switch = KillSwitch(blocker / "kill.json")
    with pytest.raises(LatchError):
        switch.kill(Kill(reason="x", by="y", at=T0))
    assert switch.state is TradingState.HALTED
