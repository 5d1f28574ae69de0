from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from quoter.venue.ledger import DayEntry, LedgerDamaged, QuotaLedger, key_digest

KEY = "k3y-very-secret"
DAY = date(2026, 3, 2)


def test_a_new_file_starts_the_day_at_zero(tmp_path: Path) -> None:
    assert QuotaLedger(tmp_path / "l.json", KEY).load(DAY) == DayEntry(DAY, 0)


def test_saved_entries_resume_and_never_hold_the_key(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "l.json"
    entry = DayEntry(DAY, 123, False, 12.5, datetime(2026, 3, 2, 9, tzinfo=UTC))
    QuotaLedger(path, KEY).save(entry)
    assert QuotaLedger(path, KEY).load(DAY) == entry
    text = path.read_text()
    assert KEY not in text
    assert key_digest(KEY) in text
    assert [p.name for p in path.parent.iterdir()] == ["l.json"]  # no temp file left


def test_a_new_utc_day_starts_from_zero_but_keeps_the_bucket(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    QuotaLedger(path, KEY).save(DayEntry(DAY, 4999, True, 3.0, None))
    assert QuotaLedger(path, KEY).load(date(2026, 3, 3)) == DayEntry(
        date(2026, 3, 3), 0, False, 3.0
    )


def test_other_keys_are_kept_apart_and_preserved(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    QuotaLedger(path, "other").save(DayEntry(DAY, 7))
    mine = QuotaLedger(path, KEY)
    assert mine.load(DAY) == DayEntry(DAY, 0)
    mine.save(DayEntry(DAY, 3))
    assert QuotaLedger(path, "other").load(DAY).spent == 7
    assert QuotaLedger(path, KEY).load(DAY).spent == 3


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"version": 2, "keys": {}}',
        '{"version": 1, "keys": {"x": {"day": "2026-03-02", "spent": -1}}}',
        '{"version": 1, "keys": {"x": {"day": "yesterday", "spent": 1}}}',
        '{"version": 1, "keys": {"x": {"spent": 1}}}',
        "",
    ],
)
def test_a_damaged_file_is_refused_and_left_in_place(tmp_path: Path, text: str) -> None:
    path = tmp_path / "l.json"
    path.write_text(text)
    ledger = QuotaLedger(path, KEY)
    with pytest.raises(LedgerDamaged, match=str(path)):
        ledger.load(DAY)
    with pytest.raises(LedgerDamaged, match=str(path)):
        ledger.record(DayEntry(DAY, 0), 1)
    assert path.read_text() == text  # for a person to look at
    ledger.start_afresh(DayEntry(DAY, 1))  # the next day: set aside, then written anew
    assert (tmp_path / "l.json.damaged").read_text() == text
    assert json.loads(path.read_text())["version"] == 1


def test_two_users_of_one_key_add_up_instead_of_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    bot, export = QuotaLedger(path, KEY), QuotaLedger(path, KEY)
    ours, theirs = bot.load(DAY), export.load(DAY)
    for _ in range(3):
        ours = bot.record(ours, 1)
    theirs = export.record(theirs, 1)
    assert theirs.spent == 4  # learnt the bot's 3
    ours = bot.record(ours, 1)
    assert ours.spent == 5
    assert QuotaLedger(path, KEY).load(DAY).spent == 5


def test_a_verdict_and_a_new_day_survive_the_merge(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    bot, export = QuotaLedger(path, KEY), QuotaLedger(path, KEY)
    ours = bot.load(DAY)
    export.record(replace(export.load(DAY), exhausted=True), 0)  # the venue said: spent
    assert bot.record(ours, 1).exhausted
    tomorrow = date(2026, 3, 3)
    export.record(DayEntry(tomorrow, 0), 2)
    late = bot.record(ours, 1)  # the bot has not rolled its day yet
    assert (late.day, late.spent, late.exhausted) == (tomorrow, 3, False)


def _hammer(path: Path, times: int) -> None:
    ledger = QuotaLedger(path, KEY)
    entry = ledger.load(DAY)
    for _ in range(times):
        entry = ledger.record(entry, 1)


def test_processes_spending_at_once_lose_no_request(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_hammer, args=(path, 150)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert QuotaLedger(path, KEY).load(DAY).spent == 450
