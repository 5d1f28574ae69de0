"""`quoter audit verify` says only what it proved: a keyed trail with no key to check it is not
verified (exit 2), never BROKEN; a folder with no trail in it is no trail (exit 2), never
intact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from quoter.audit import JsonlAudit, verify
from quoter.audit.key import KEY_VARIABLE
from quoter.cli import main
from tests.audit.trails import DAY1, KEY, write_trail


def _keyed_trail(tmp_path: Path) -> Path:
    """A desk's trail as the bot leaves it: the key and the anchor beside the trail."""
    trail = tmp_path / "audit"
    write_trail(trail, key=KEY, anchor=tmp_path / "audit-anchor.json")
    key_file = tmp_path / "audit-key"
    key_file.write_bytes(KEY + b"\n")
    os.chmod(key_file, 0o600)
    return trail


def test_a_keyed_trail_without_its_key_is_not_verified_not_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _keyed_trail(tmp_path)
    assert main(["audit", "verify", str(trail)]) == 0
    assert "intact, keyed; anchor at seq 12 reached" in capsys.readouterr().out
    (tmp_path / "audit-key").unlink()
    assert main(["audit", "verify", str(trail)]) == 2
    out = capsys.readouterr().out
    assert "BROKEN" not in out
    assert out.startswith("NOT VERIFIED: no audit key to check audit-2026-03-02.jsonl:1, seq 1")
    assert f"{KEY_VARIABLE} unset, no {tmp_path / 'audit-key'}" in out


def test_the_first_keyed_record_after_legacy_ones_needs_the_key(tmp_path: Path) -> None:
    trail, anchor = tmp_path / "audit", tmp_path / "audit-anchor.json"
    write_trail(trail, days=1, per_day=3)  # legacy, unkeyed: from before the key
    upgraded = JsonlAudit(trail, key=KEY, anchor_path=anchor)
    upgraded.record("rfq", DAY1, {"n": 4}, durable=True)
    upgraded.close()
    result = verify(trail, key=None, anchor_path=anchor)
    assert result.needs_key is not None
    assert (result.needs_key.seq, result.records) == (4, 3)
    assert result.summary().startswith("NOT VERIFIED")
    assert verify(trail, key=KEY, anchor_path=anchor).intact


def test_an_edited_legacy_trail_is_still_broken_without_a_key(tmp_path: Path) -> None:
    write_trail(tmp_path, days=1, per_day=3)
    path = next(tmp_path.glob("audit-*.jsonl"))
    path.write_bytes(path.read_bytes().replace(b'"n":1', b'"n":7'))
    result = verify(tmp_path)
    assert result.needs_key is None
    assert result.problem is not None
    assert result.problem.why.startswith("edited: the record's hash does not match")


def test_a_folder_with_no_trail_is_not_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "emptydir"
    empty.mkdir()
    assert main(["audit", "verify", str(empty)]) == 2
    said = capsys.readouterr()
    assert "intact" not in said.out + said.err
    assert f"{empty}: no audit trail there (no day files" in said.err
    (empty / "audit-2026-03-02.jsonl").touch()
    assert main(["audit", "verify", "--no-anchor", str(empty)]) == 2
    assert "no audit trail there (no records in its day files" in capsys.readouterr().err
    assert verify(empty).summary().startswith("NO AUDIT TRAIL found")


def test_a_trail_emptied_behind_its_anchor_is_broken_not_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = _keyed_trail(tmp_path)
    for path in trail.iterdir():
        path.unlink()
    assert main(["audit", "verify", str(trail)]) == 1
    assert "truncated: the trail ends at seq 0" in capsys.readouterr().out
