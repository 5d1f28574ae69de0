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
from quoter.engine.status import REVERTED_FACT, render_status
from quoter.timefmt import stamp
from tests.admin.harness import admin_for, call
from tests.engine.bots import desk, sandbox, start_output, this_checkout, write_bot_config
from tests.engine.harness import fast_sandbox, running_engine
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
        f"{stamp(T0)} by ann (admin); this run quotes with the configuration's "
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
        f'{{"credit_default_eur_mwh": 0.85}} at {stamp(T0)} by ann (admin); this run '
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


async def test_a_swap_in_this_run_ends_the_reverted_notice(tmp_path: Path) -> None:
    record = tmp_path / swap_record.SWAP_FILE
    _saved(record)  # what the last run's swap left
    note = swap_record.reverted(record, "curve-spread", {})
    assert note is not None
    assert T0.isoformat() not in note  # the desk's format, not the raw record's
    facts: dict[str, object] = {REVERTED_FACT: note}
    async with (
        fast_sandbox() as venue,
        running_engine(venue, tmp_path, run_facts=facts) as bot,
        admin_for(bot) as url,
    ):
        _, before = await call(url, "GET", "/status")
        assert before["strategy-reverted"] == note
        assert f"\nREVERTED {note}\n" in render_status(before)
        assert (await call(url, "POST", "/swap", {"name": "curve_spread", "params": B}))[0] == 200
        _, after = await call(url, "GET", "/status")
    assert after["strategy"] == "curve_spread"
    assert after["strategy-reverted"] is None
    assert "REVERTED" not in render_status(after)
