import json
import multiprocessing
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from quoter.engine.kill_scope import ScopeError, canonical_scope
from quoter.engine.killswitch import (
    Kill,
    KillSwitch,
    LatchError,
    Scope,
    TradingState,
    UnknownKill,
)
from quoter.strategy_names import known_strategies
from tests.factories import T0

# Deliberately two spellings of one: the first (the running one's) is the one kept.
KNOWN_STRATEGIES = ["curve-spread", "curve_spread", "inventory_skew"]


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


def test_kills_get_ids_and_one_is_lifted_alone(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    first = switch.kill(Kill(reason="FR", by="ops", at=T0, scope=Scope(areas=frozenset({"FR"}))))
    other = KillSwitch(latch)  # another process: `quoter kill`
    second = other.kill(Kill(reason="all", by="ops", at=T0))
    assert (first.id, second.id) == (1, 2)
    assert switch.sync()
    with pytest.raises(UnknownKill, match=r"no kill 7 is latched \(latched: 1, 2\)"):
        switch.resume([7])
    assert len(KillSwitch(latch).kills) == 2  # a refused lift lifts nothing
    assert [k.reason for k in switch.resume([2])] == ["all"]
    assert switch.state is TradingState.ACTIVE
    assert [(k.id, k.reason) for k in KillSwitch(latch).kills] == [(1, "FR")]
    assert switch.kill(Kill(reason="again", by="ops", at=T0)).id == 3  # 2 was given once


def test_an_id_is_never_given_twice_after_a_resume(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    assert switch.kill(Kill(reason="first", by="ops", at=T0)).id == 1
    switch.resume()
    assert switch.kill(Kill(reason="second", by="ops", at=T0)).id == 2
    assert json.loads(latch.read_text()) == {
        "last-id": 2,
        "kills": [
            {"id": 2, "reason": "second", "by": "ops", "at": T0.isoformat(), "scope": _scope([])}
        ],
    }


def test_the_numbering_goes_on_after_a_restart_and_in_another_process(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    switch.kill(Kill(reason="a", by="engine", at=T0))
    switch.kill(Kill(reason="b", by="engine", at=T0))
    switch.resume()  # nothing latched now: only the counter remembers 1 and 2
    restarted = KillSwitch(latch)  # the bot's next start
    cli = KillSwitch(latch)  # `quoter kill` at the same time, from the same file
    assert restarted.kill(Kill(reason="c", by="engine", at=T0)).id == 3
    assert cli.kill(Kill(reason="d", by="ann (cli)", at=T0)).id == 4  # merged under the lock
    assert [k.id for k in KillSwitch(latch).kills] == [3, 4]


def _kill_and_lift(latch: Path, rounds: int, ids: "multiprocessing.Queue[int]") -> None:
    """One process (`quoter kill`, the dead man's switch): latches a kill and lifts it."""
    for n in range(rounds):
        switch = KillSwitch(latch)
        kill = switch.kill(Kill(reason=f"r{n}", by=str(os.getpid()), at=T0))
        switch.resume([kill.id])
        ids.put(kill.id)


def test_processes_latching_at_once_never_get_one_id(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    context = multiprocessing.get_context("fork")
    ids: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_kill_and_lift, args=(latch, 10, ids)) for _ in range(4)]
    for worker in workers:
        worker.start()
    given = [ids.get(timeout=30) for _ in range(40)]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(given) == list(range(1, 41))
    assert json.loads(latch.read_text()) == {"last-id": 40, "kills": []}


def test_a_kill_in_memory_only_keeps_its_id_from_the_next_one(tmp_path: Path) -> None:
    switch = KillSwitch(None)
    switch.kill(Kill(reason="a", by="engine", at=T0))
    switch.resume()
    assert switch.kill(Kill(reason="b", by="engine", at=T0)).id == 2


def test_resuming_a_lifted_kill_by_its_id_does_not_lift_a_newer_one(tmp_path: Path) -> None:
    """Ann lifts kill 1 and the engine latches another; Bob's `quoter resume --kill 1`, typed
    for the kill Ann already lifted, is refused: it must not lift the new one."""
    latch = tmp_path / "kill.json"
    KillSwitch(latch).kill(Kill(reason="desk", by="ann (cli)", at=T0))
    KillSwitch(latch).resume([1])
    KillSwitch(latch).kill(Kill(reason="error rate", by="engine", at=T0))
    with pytest.raises(UnknownKill, match=r"no kill 1 is latched \(latched: 2\)"):
        KillSwitch(latch).resume([1])
    assert [(k.id, k.reason) for k in KillSwitch(latch).kills] == [(2, "error rate")]
    assert KillSwitch(latch).state is TradingState.HALTED


def test_a_latch_written_before_the_counter_reads_and_numbers_on(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    old = {"reason": "old", "by": "ann (cli)", "at": T0.isoformat(), "scope": _scope([])}
    latch.write_text(json.dumps([{**old, "id": 4}, {**old, "id": 2}]))
    switch = KillSwitch(latch)
    assert [k.id for k in switch.kills] == [4, 2]
    assert switch.state is TradingState.HALTED
    assert switch.kill(Kill(reason="new", by="x", at=T0)).id == 5
    assert json.loads(latch.read_text())["last-id"] == 5


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"last-id": "3", "kills": []}, "last-id '3' is not a kill's number"),
        ({"last-id": True, "kills": []}, "last-id True is not a kill's number"),
        ({"last-id": -1, "kills": []}, "last-id -1 is not a kill's number"),
        ({"kills": []}, "last-id None is not a kill's number"),
        ({"last-id": 0, "kills": {}}, "kills is a list of kills, not dict"),
    ],
)
def test_a_damaged_counter_refuses_to_start(tmp_path: Path, body: object, why: str) -> None:
    latch = tmp_path / "kill.json"
    latch.write_text(json.dumps(body))
    with pytest.raises(LatchError, match=re.escape(why)):
        KillSwitch(latch)


def test_a_counter_below_a_latched_id_refuses_to_start(tmp_path: Path) -> None:
    """A counter behind its kills would give their ids again: the file is damaged."""
    latch = tmp_path / "kill.json"
    kill = {"id": 3, "reason": "r", "by": "b", "at": T0.isoformat()}
    latch.write_text(json.dumps({"last-id": 2, "kills": [kill]}))
    with pytest.raises(LatchError, match=r"kill\.json: unreadable kill latch \(last-id 2 is below"):
        KillSwitch(latch)
    latch.write_text(json.dumps({"last-id": 3, "kills": [kill, {**kill, "reason": "s"}]}))
    with pytest.raises(LatchError, match=r"two kills have id 3"):
        KillSwitch(latch)


def test_kills_held_in_memory_are_lifted_by_id_too() -> None:
    switch = KillSwitch(None)
    ids = [switch.kill(Kill(reason=r, by="engine", at=T0)).id for r in ("a", "b")]
    assert ids == [1, 2]
    assert [k.reason for k in switch.resume([1])] == ["a"]
    assert [k.reason for k in switch.resume()] == ["b"]


def test_a_latch_written_before_ids_and_the_check_at_the_door_is_read(tmp_path: Path) -> None:
    """Old records: no id, and `quoter kill --area de` latched as typed, covering nothing."""
    latch = tmp_path / "kill.json"
    records = [
        {"reason": "de desk", "by": "ann (cli)", "at": T0.isoformat(), "scope": _scope(["de"])},
        {"reason": "months", "by": "bob", "at": T0.isoformat(), "scope": _scope([], ["MONTH"])},
    ]
    latch.write_text(json.dumps(records))
    switch = KillSwitch(latch)
    assert [k.id for k in switch.kills] == [1, 2]
    assert [k.id for k in KillSwitch(latch).kills] == [1, 2]  # the same at every read
    assert switch.blocked_by("DE", "year", "s") == "killed: de desk"
    assert switch.blocked_by("FR", "month", "s") == "killed: months"
    assert switch.kill(Kill(reason="new", by="x", at=T0)).id == 3
    assert [k["id"] for k in json.loads(latch.read_text())["kills"]] == [1, 2, 3]


def _scope(areas: list[str], products: list[str] | None = None) -> dict[str, list[str]]:
    return {"areas": areas, "products": products or [], "strategies": []}


def test_a_scope_is_spelt_as_the_venue_and_the_configuration_spell_it() -> None:
    scope = canonical_scope(
        ["de", "Ttf"], ["MONTH", "balance-OF-month"], ["CURVE_SPREAD"], lambda: KNOWN_STRATEGIES
    )
    assert scope == Scope(
        frozenset({"DE", "TTF"}),
        frozenset({"month", "balance-of-month"}),
        frozenset({"curve-spread"}),
    )
    # The engine runs the built-in under whichever spelling its configuration used.
    assert Scope(strategies=frozenset({"curve-spread"})).covers("DE", "day", "curve_spread")
    assert not Scope(strategies=frozenset({"curve-spread"})).covers("DE", "day", "skew")


def test_an_unknown_scope_is_refused_naming_what_is_known() -> None:
    with pytest.raises(ScopeError) as refused:
        canonical_scope(["DE", "xx"], ["fortnight"], ["nosuch"], lambda: KNOWN_STRATEGIES)
    message = str(refused.value)
    assert (
        "unknown area 'xx' (known: AT, BE, CEGH-VTP, CH, DE, FR, NL, PEG, PSV, THE, TTF, ZTP)"
        in (message)
    )
    assert "unknown product 'fortnight' (known: day, weekend, week, balance-of-month" in message
    assert "unknown strategy 'nosuch' (known: curve-spread, curve_spread, inventory_skew)" in (
        message
    )


def test_strategies_are_looked_up_only_when_a_kill_names_one() -> None:
    def unreachable() -> list[str]:
        raise AssertionError("read the installed packages for a kill naming no strategy")

    assert canonical_scope(["de"], [], [], unreachable) == Scope(areas=frozenset({"DE"}))


def test_known_strategies_are_the_running_ones_then_the_built_ins_each_once() -> None:
    assert known_strategies(["curve-spread", None, "my.mod:Thing"])[:3] == [
        "curve-spread",
        "my.mod:Thing",
        "inventory_skew",
    ]


# -- a latch damaged or removed while the bot runs: never a resume ------------------------------


def _damaged(latch: Path) -> None:
    latch.write_text("garbage{", encoding="utf-8")


def test_a_kill_made_while_the_latch_is_damaged_is_written_back_once_it_is_removed(
    tmp_path: Path,
) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    _damaged(latch)
    with pytest.raises(LatchError):
        switch.sync()
    with pytest.raises(LatchError):
        switch.kill(Kill(reason="desk", by="ann (admin)", at=T0))
    assert [k.reason for k in switch.unwritten] == ["desk"]
    assert "unreadable kill latch" in (switch.latch_problem or "")
    latch.unlink()
    switch.sync()
    assert switch.state is TradingState.HALTED
    assert switch.unwritten == ()
    assert [(k.id, k.reason) for k in KillSwitch(latch).kills] == [(1, "desk")]


def test_kills_latched_before_the_latch_was_damaged_survive_its_repair(tmp_path: Path) -> None:
    """The desk repairs the file from memory and leaves a kill out: only a resume lifts it."""
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    switch.kill(Kill(reason="FR", by="ops", at=T0, scope=Scope(areas=frozenset({"FR"}))))
    switch.kill(Kill(reason="all", by="ops", at=T0))
    _damaged(latch)
    with pytest.raises(LatchError):
        switch.sync()
    latch.write_text('{"last-id": 2, "kills": []}', encoding="utf-8")
    switch.sync()
    assert [(k.id, k.reason) for k in switch.kills] == [(1, "FR"), (2, "all")]
    assert [(k.id, k.reason) for k in KillSwitch(latch).kills] == [(1, "FR"), (2, "all")]


def test_a_latch_removed_while_running_is_not_a_resume(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    switch.kill(Kill(reason="desk", by="ops", at=T0))
    latch.unlink()
    switch.sync()
    assert switch.state is TradingState.HALTED
    assert [(k.id, k.reason) for k in KillSwitch(latch).kills] == [(1, "desk")]
    assert [k.reason for k in switch.resume()] == ["desk"]  # what lifts it
    assert KillSwitch(latch).state is TradingState.ACTIVE


def test_a_resume_on_a_damaged_latch_lifts_nothing(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    switch.kill(Kill(reason="desk", by="ops", at=T0))
    _damaged(latch)
    with pytest.raises(LatchError):
        switch.resume()
    assert switch.state is TradingState.HALTED
    assert latch.read_text(encoding="utf-8") == "garbage{"  # left for a person to look at


def test_a_kill_written_back_keeps_no_id_the_file_gave_meanwhile(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    switch = KillSwitch(latch)
    _damaged(latch)
    with pytest.raises(LatchError):
        switch.kill(Kill(reason="mine", by="engine", at=T0))
    latch.unlink()
    KillSwitch(latch).kill(Kill(reason="theirs", by="ann (cli)", at=T0))  # id 1 in the file
    switch.sync()
    assert [(k.id, k.reason) for k in switch.kills] == [(1, "theirs"), (2, "mine")]


# -- one command, one kill: `quoter kill`'s fallback and its request to a hung bot ------------


def _from_command(by: str) -> Kill:
    scope = Scope(areas=frozenset({"DE"}), products=frozenset({"month"}))
    return Kill(reason="DE months", by=by, at=T0, scope=scope, command_id="c0ffee")


def test_a_bot_woken_late_to_a_kill_its_command_latched_latches_nothing_new(
    tmp_path: Path,
) -> None:
    latch = tmp_path / "kill.json"
    bot = KillSwitch(latch)
    KillSwitch(latch).kill(_from_command("ann (cli)"))  # the fallback, before the bot wakes
    held = bot.kill(_from_command("ann (admin)"))  # the request it wakes to, not yet synced
    assert (held.id, held.by) == (1, "ann (cli)")
    assert [k.id for k in bot.kills] == [1]
    assert [k.id for k in KillSwitch(latch).kills] == [1]


def test_a_fallback_after_the_bot_latched_its_command_latches_nothing_new(
    tmp_path: Path,
) -> None:
    latch = tmp_path / "kill.json"
    KillSwitch(latch).kill(_from_command("ann (admin)"))  # the bot, answering too late
    held = KillSwitch(latch).kill(_from_command("ann (cli)"))
    assert (held.id, held.by) == (1, "ann (admin)")
    kills = KillSwitch(latch).kills
    assert [(k.id, k.command_id) for k in kills] == [(1, "c0ffee")]


def test_kills_of_two_commands_alike_are_two_kills(tmp_path: Path) -> None:
    latch = tmp_path / "kill.json"
    KillSwitch(latch).kill(_from_command("ann (cli)"))
    KillSwitch(latch).kill(replace(_from_command("ann (cli)"), command_id="beef"))
    assert [k.id for k in KillSwitch(latch).kills] == [1, 2]
