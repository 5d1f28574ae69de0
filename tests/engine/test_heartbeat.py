"""The dead-man's switch's judgement of a heartbeat, and the heartbeat file itself."""

from __future__ import annotations

import stat
from pathlib import Path

from quoter.engine.deadman import Observer, Verdict
from quoter.engine.heartbeat import Beat, BeatState, read_beat, write_beat

PID = 4242


def _beat(count: int, state: BeatState = BeatState.RUNNING, pid: int = PID) -> Beat:
    return Beat(pid, count, state)


def test_a_beating_bot_is_watched_and_a_silent_one_fires_after_the_timeout() -> None:
    observer = Observer(PID, timeout_s=3.0)
    assert observer.look(True, _beat(1), 0.0)[0] is Verdict.WATCH
    assert observer.look(True, _beat(2), 2.9)[0] is Verdict.WATCH
    assert observer.look(True, _beat(2), 5.8)[0] is Verdict.WATCH  # 2.9 s since the change
    verdict, why = observer.look(True, _beat(2), 6.0)
    assert verdict is Verdict.FIRE
    assert "silent for 3.1 s" in why


def test_a_bot_gone_without_its_stop_fires_at_once_and_a_clean_stop_does_not() -> None:
    observer = Observer(PID, timeout_s=3.0)
    observer.look(True, _beat(1), 0.0)
    assert observer.look(False, _beat(1), 0.1)[0] is Verdict.FIRE
    clean = Observer(PID, timeout_s=3.0)
    clean.look(True, _beat(1), 0.0)
    assert clean.look(False, _beat(2, BeatState.STOPPED), 0.1)[0] is Verdict.CLEAN


def test_another_bots_beat_counts_for_nothing() -> None:
    observer = Observer(PID, timeout_s=3.0)
    # A previous run's stop, or another bot's beat, in the file: still waiting for ours.
    assert observer.look(True, _beat(9, BeatState.STOPPED, pid=1), 0.0)[0] is Verdict.WATCH
    assert observer.look(True, _beat(9, pid=1), 60.0)[0] is Verdict.WATCH
    assert observer.look(False, None, 61.0)[0] is Verdict.NEVER_BEAT


def test_the_heartbeat_file_is_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "var" / "heartbeat.json"
    assert read_beat(path) is None
    write_beat(path, _beat(3))
    assert read_beat(path) == _beat(3)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text('{"pid": 1', encoding="utf-8")  # half-written
    assert read_beat(path) is None
