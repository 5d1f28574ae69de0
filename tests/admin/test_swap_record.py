"""A swap lasts until the bot stops; the next start quotes with the configuration's strategy.
It says so: the start's banner, the status screen and the start's audit record name the
strategy the last run was swapped to and the one this run quotes with. A damaged record is
the dangerous case (the last run may have been swapped); a configuration that names the
swapped strategy has taken it in, and the record goes."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from quoter.admin import swap_record
from tests.engine.bots import desk, sandbox, start_output, this_checkout, write_bot_config
from tests.factories import T0

B: dict[str, object] = {"credit_default_eur_mwh": 0.85}


def _saved(path: Path, name: str = "curve_spread", params: dict[str, object] = B) -> None:
    swap_record.save(path, name, params, at=T0, by="ann (admin)", source="admin")


def test_a_start_with_another_strategy_than_the_last_swap_says_both(tmp_path: Path) -> None:
    record = tmp_path / swap_record.SWAP_FILE
    old = os.umask(0o002)
    try:
        _saved(record)
    finally:
        os.umask(old)
    assert stat.S_IMODE(record.stat().st_mode) == 0o600  # it names who swapped: the desk's
    note = swap_record.reverted(record, "curve-spread", {})
    assert note == (
        'the last run was swapped to curve_spread {"credit_default_eur_mwh": 0.85} at '
        f"{T0.isoformat()} by ann (admin); this run quotes with the configuration's "
        "curve-spread {}: `quoter swap` to swap again, or name it in the configuration"
    )
    assert record.exists()  # said again at every start until it is settled


def test_a_configuration_that_names_the_swapped_strategy_takes_it_in(tmp_path: Path) -> None:
    record = tmp_path / swap_record.SWAP_FILE
    _saved(record)
    assert swap_record.reverted(record, "curve_spread", dict(B)) is None
    assert not record.exists()
    assert swap_record.reverted(record, "curve-spread", {}) is None  # no record: nothing to say


def test_a_damaged_record_is_taken_as_a_swap_that_may_have_been(tmp_path: Path) -> None:
    record = tmp_path / swap_record.SWAP_FILE
    for text in ["{not json", '["a list"]', '{"name": "x"}', ""]:
        record.write_text(text, encoding="utf-8")
        note = swap_record.reverted(record, "curve-spread", {})
        assert note == (
            f"{record} is damaged: the last run may have been swapped to another strategy; "
            "this run quotes with the configuration's curve-spread {}"
        ), text
        assert record.exists()  # kept for a person to look at


def test_a_record_that_cannot_be_kept_is_said_and_the_swap_stands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="quoter.admin.swap_record"):
        _saved(blocked / swap_record.SWAP_FILE)  # its folder is a file: no raise
    [said] = caplog.messages
    assert said.startswith(f"cannot keep the swap in {blocked / swap_record.SWAP_FILE}")
    assert "a restart will quote with the configuration's strategy without saying so" in said


def test_a_restarted_bot_says_it_reverted_a_swap_in_its_banner_and_status(
    tmp_path: Path,
) -> None:
    d = this_checkout(desk(tmp_path))
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)
        _saved(d.var / swap_record.SWAP_FILE)  # what a swap in the last run left
        lines, status = start_output(d)
    said = [line for line in lines if line.startswith("STRATEGY REVERTED: ")]
    assert said == [
        "STRATEGY REVERTED: the last run was swapped to curve_spread "
        f'{{"credit_default_eur_mwh": 0.85}} at {T0.isoformat()} by ann (admin); this run '
        "quotes with the configuration's curve-spread {}: `quoter swap` to swap again, or "
        "name it in the configuration"
    ], "\n".join(lines)
    assert "\nREVERTED the last run was swapped to curve_spread" in status
    starts = [
        json.loads(line)
        for path in sorted((d.var / "audit").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if '"kind":"start"' in line.replace(" ", "")
    ]
    assert starts[-1]["strategy-reverted"] == said[0].removeprefix("STRATEGY REVERTED: ")
