"""One bot per desk state: the run's lock on each state path, in-process (a flock taken
through a second open file conflicts with the first even in one process)."""

from __future__ import annotations

import os
import stat
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from quoter.basics.errors import ConfigError
from quoter.basics.state_lock import StateInUse, hold_states, lock_path
from quoter.commands._desk_lock import desk_states, hold_desk
from quoter.config import QuoterConfig, parse_config

STARTED = "2026-12-01 09:00:00+01:00"
SOURCE = Path("desk.toml")  # a configured desk: its dead-man's switch on, so its heartbeat


def _refusal(held: AbstractContextManager[None], second: AbstractContextManager[None]) -> str:
    """What `second` is refused with while `held` is held (a test failure if it is not)."""
    with held:
        try:
            with second:
                pass
        except StateInUse as refused:
            return str(refused)
    pytest.fail("the second holder got the lock")


def test_a_second_holder_is_refused_naming_the_state_and_the_running_bot(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    message = _refusal(
        hold_states([("audit trail", audit)], STARTED),
        hold_states([("audit trail", audit)], "later"),
    )
    assert f"audit trail {audit}" in message
    assert f"pid {os.getpid()} (started {STARTED})" in message
    assert "\n" not in message


def test_a_lock_file_left_behind_does_not_block(tmp_path: Path) -> None:
    state = tmp_path / "kill-latch.json"
    lock = lock_path(state)
    lock.write_text("garbage from a bot that died", encoding="utf-8")
    lock.chmod(0o644)
    with hold_states([("kill latch", state)], STARTED):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    with hold_states([("kill latch", state)], STARTED):  # let go at the end of the block
        pass


def test_a_refusal_holds_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    both = hold_states([("audit trail", first), ("trade file", second)], STARTED)
    assert "trade file" in _refusal(hold_states([("trade file", second)], STARTED), both)
    with hold_states([("audit trail", first)], STARTED):  # the refused one let it go
        pass


def test_a_folder_reached_through_a_symlink_has_one_lock(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "audit")
    _refusal(
        hold_states([("audit trail", tmp_path / "audit")], STARTED),
        hold_states([("audit trail", tmp_path / "link")], STARTED),
    )


def _desk(root: Path, **shared: Any) -> QuoterConfig:
    """A desk with every state file under `root`, but those in `shared`."""
    paths = {
        "audit": root / "var" / "audit",
        "anchor": root / "var" / "audit-anchor.json",
        "latch": root / "var" / "kill-latch.json",
        "ledger": root / "var" / "quota-ledger.json",
        "trades": root / "var" / "trades.csv",
        "heartbeat": root / "var" / "heartbeat.json",
    } | shared
    data = {
        "engine": {
            "audit_dir": str(paths["audit"]),
            "audit_anchor": str(paths["anchor"]),
            "trades_file": str(paths["trades"]),
            "kill": {"latch_path": str(paths["latch"])},
            "deadman": {"heartbeat_path": str(paths["heartbeat"])},
        },
        "venue": {"usage_plan": {"ledger_path": str(paths["ledger"])}},
    }
    return parse_config(data)


@pytest.mark.parametrize(
    ("shared", "named"),
    [
        ("audit", "audit trail"),
        ("anchor", "audit anchor"),
        ("latch", "kill latch"),
        ("ledger", "quota ledger"),
        ("trades", "trade file"),
        ("heartbeat", "heartbeat"),
    ],
)
def test_a_twin_sharing_any_one_state_file_is_refused(
    tmp_path: Path, shared: str, named: str
) -> None:
    first = _desk(tmp_path / "first")
    path = dict(desk_states(first, SOURCE))[named]
    twin = _desk(tmp_path / "twin", **{shared: path})
    with (
        hold_desk(first, SOURCE),
        pytest.raises(StateInUse, match=f"the {named} "),
        hold_desk(twin, SOURCE),
    ):
        pass


def test_a_twin_whose_audit_folder_sits_beside_ours_shares_the_swap_record(
    tmp_path: Path,
) -> None:
    first = _desk(tmp_path / "first")
    twin = _desk(tmp_path / "twin", audit=tmp_path / "first" / "var" / "audit-twin")
    assert "strategy swap record" in _refusal(hold_desk(first, SOURCE), hold_desk(twin, SOURCE))


def test_desks_of_their_own_both_run(tmp_path: Path) -> None:
    first, second = _desk(tmp_path / "first"), _desk(tmp_path / "second")
    with hold_desk(first, SOURCE), hold_desk(second, SOURCE):
        pass


def test_a_heartbeat_no_switch_writes_is_not_held(tmp_path: Path) -> None:
    """Bots without the dead-man's switch (the demo, `enabled = false`) share the default
    heartbeat path they never write: it does not stop either."""
    first = _desk(tmp_path / "first")
    twin = _desk(tmp_path / "twin", heartbeat=tmp_path / "first" / "var" / "heartbeat.json")
    off = twin.model_copy(
        update={
            "engine": twin.engine.model_copy(
                update={"deadman": twin.engine.deadman.model_copy(update={"enabled": False})}
            )
        }
    )
    assert "heartbeat" not in dict(desk_states(off, SOURCE))
    assert "heartbeat" not in dict(desk_states(twin, None))
    with hold_desk(first, SOURCE), hold_desk(off, SOURCE):
        pass


def test_the_demo_locks_its_own_state_not_a_desks() -> None:
    from quoter.config import demo_config

    demo = dict(desk_states(demo_config(), None))
    assert all(str(path).startswith("var/demo/") for path in demo.values())


def test_a_lock_that_cannot_be_made_is_said_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the folder should be", encoding="utf-8")
    held = hold_states([("audit trail", tmp_path / "var" / "audit")], STARTED)
    with pytest.raises(ConfigError, match=r"^not started: cannot lock the audit trail .*var/audit"):
        held.__enter__()


def test_the_root_folder_as_state_has_its_lock_inside_it() -> None:
    """A path with no name to put the lock beside (an `audit_dir` of "/") is no traceback."""
    assert lock_path(Path("/")) == Path("/") / ".run-lock"
