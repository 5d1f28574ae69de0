"""The dead-man's switch's judgement of a heartbeat, and the heartbeat file itself."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quoter.domain import Price, Quote, QuoteStatus
from quoter.engine.deadman import Observer, Verdict, still_unsettled
from quoter.engine.heartbeat import Beat, BeatState, Unsettled, read_beat, write_beat
from quoter.engine.sweep import SweepResult

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


def test_a_beat_names_the_quotes_whose_outcome_is_unknown_and_the_switch_keeps_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "heartbeat.json"
    until = datetime(2026, 3, 2, 9, 15, 5, tzinfo=UTC)
    beat = Beat(PID, 3, BeatState.RUNNING, (Unsettled("q-run-000007", until),))
    write_beat(path, beat)
    assert read_beat(path) == beat
    observer = Observer(PID, timeout_s=3.0)
    observer.look(True, beat, 0.0)
    observer.look(False, None, 0.1)  # a beat half-written as the bot died: what it named stays
    assert observer.unsettled == beat.unsettled


def test_the_switch_looks_for_an_unknown_quote_until_found_or_past_its_look_until() -> None:
    until = datetime(2026, 3, 2, 9, 15, 5, tzinfo=UTC)
    waiting = [Unsettled("q-run-000007", until), Unsettled("q-run-000008", until)]
    found = Quote(
        "venue-1", "rfq-1", "q-run-000008", QuoteStatus.ACTIVE, Price(80.0), None, None,
        until, until, until,
    )  # fmt: skip
    swept = SweepResult(withdrawn=(found,), not_active=(), left=(), lists=1, complete=True)
    assert still_unsettled(waiting, swept, until - timedelta(seconds=1)) == waiting[:1]
    assert still_unsettled(waiting, None, until) == []  # past its look-until: it cannot be live
