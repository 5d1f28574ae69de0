"""The chain across files and restarts, and every kind of tampering named at the right record."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from quoter.audit import GENESIS, JsonlAudit, verify
from quoter.audit.chain import digest
from quoter.audit.trail import HEAD_FILE
from quoter.cli import main
from tests.audit.trails import DAY1, KEY, day_file, lines_of, write_lines, write_trail

ROOT = Path(__file__).parents[2]


def records(directory: Path) -> list[dict[str, object]]:
    return [
        orjson.loads(line)
        for path in sorted(directory.glob("audit-*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_the_chain_runs_across_daily_files(tmp_path: Path) -> None:
    write_trail(tmp_path, days=3, per_day=4)
    assert len(list(tmp_path.glob("audit-*.jsonl"))) == 3
    chain = records(tmp_path)
    assert [r["seq"] for r in chain] == list(range(1, 13))
    assert chain[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(chain):
        assert after["prev"] == before["hash"]
        assert digest(after) == after["hash"]
    first_of_day2 = orjson.loads(lines_of(day_file(tmp_path, 1))[0])
    last_of_day1 = orjson.loads(lines_of(day_file(tmp_path, 0))[-1])
    assert first_of_day2["prev"] == last_of_day1["hash"]
    result = verify(tmp_path)
    assert result.intact, result.summary()
    assert (result.records, result.files, result.last_seq) == (12, 3, 12)
    assert result.head == chain[-1]["hash"]


def test_a_restart_resumes_the_chain(tmp_path: Path) -> None:
    write_trail(tmp_path, days=1, per_day=3)
    again = JsonlAudit(tmp_path)
    assert again.head[0] == 3
    again.record("resume", DAY1, {"by": "test"})
    again.close()
    chain = records(tmp_path)
    assert [r["seq"] for r in chain] == [1, 2, 3, 4]
    assert verify(tmp_path).intact


def test_data_cannot_forge_chain_fields(tmp_path: Path) -> None:
    audit = JsonlAudit(tmp_path)
    audit.record("rfq", DAY1, {"seq": 99, "hash": "x", "at": "then", "kind": "fake"})
    record = records(tmp_path)[0]
    assert (record["seq"], record["kind"], record["data-seq"], record["data-kind"]) == (
        1,
        "rfq",
        99,
        "fake",
    )
    assert verify(tmp_path).intact


def test_a_clock_stepping_back_stays_in_the_open_days_file(tmp_path: Path) -> None:
    audit = JsonlAudit(tmp_path)
    audit.record("a", DAY1.replace(day=3), {})
    audit.record("b", DAY1, {})  # earlier day: joins the open file, its `at` kept as it was
    audit.close()
    assert [p.name for p in sorted(tmp_path.glob("audit-*.jsonl"))] == ["audit-2026-03-03.jsonl"]
    assert verify(tmp_path).intact


def _edit(path: Path, index: int, **changes: object) -> None:
    lines = lines_of(path)
    record = orjson.loads(lines[index]) | changes
    lines[index] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
    write_lines(path, lines)


def test_an_edited_field_is_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    _edit(day_file(tmp_path, 1), 2, n=42)
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (day_file(tmp_path, 1).name, 3, 7)
    assert problem.why.startswith("edited")


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    write_trail(tmp_path)
    path = day_file(tmp_path, 1)
    record = orjson.loads(lines_of(path)[1]) | {"n": 42}
    _edit(path, 1, n=42, hash=digest(record))
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.line, problem.seq) == (3, 7)
    assert "prev is not the hash of seq 6" in problem.why


def test_a_deleted_record_is_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    path = day_file(tmp_path, 0)
    lines = lines_of(path)
    del lines[1]
    write_lines(path, lines)
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (path.name, 2, 3)
    assert problem.why == "removed: expected seq 2, found 3 (record(s) 2..2 missing)"


def test_swapped_records_are_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    path = day_file(tmp_path, 2)
    lines = lines_of(path)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(path, lines)
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (path.name, 2, 11)
    assert problem.why == "reordered: expected seq 10, found 11 (it comes later)"


def test_a_deleted_day_file_in_the_middle_is_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    day_file(tmp_path, 1).unlink()
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (day_file(tmp_path, 2).name, 1, 9)
    assert "whole day file" in problem.why


def test_a_missing_tail_of_a_middle_file_is_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    path = day_file(tmp_path, 0)
    write_lines(path, lines_of(path)[:-1])
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.seq) == (day_file(tmp_path, 1).name, 5)


def test_whole_records_cut_from_the_end_are_caught_by_the_head(tmp_path: Path) -> None:
    write_trail(tmp_path)
    assert (tmp_path / HEAD_FILE).exists()
    path = day_file(tmp_path, 2)
    write_lines(path, lines_of(path)[:-2])
    problem = verify(tmp_path).problem
    assert problem is not None
    assert problem.seq == 11
    assert problem.why.startswith("truncated: the trail ends at seq 10")


def test_truncated_mid_line_in_a_middle_file_is_named(tmp_path: Path) -> None:
    write_trail(tmp_path)
    path = day_file(tmp_path, 1)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 30])
    problem = verify(tmp_path).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (path.name, 4, None)
    assert problem.why.startswith("truncated or damaged: torn line")


def test_a_torn_last_line_verifies_up_to_the_last_whole_record(tmp_path: Path) -> None:
    write_trail(tmp_path, close=False)  # a crash: no head written
    path = day_file(tmp_path, 2)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 30])
    result = verify(tmp_path)
    assert result.intact
    assert result.last_seq == 11
    assert result.torn is not None
    assert (result.torn.file, result.torn.line, result.torn.seq) == (path.name, 4, 12)
    legacy = ["--no-anchor", "--key-file", str(tmp_path / "no-key")]
    assert main(["audit", "verify", *legacy, str(tmp_path)]) == 3  # intact, but unkeyed
    assert main(["audit", "verify", "--strict", *legacy, str(tmp_path)]) == 1


def test_a_crash_mid_write_then_a_restart_sets_the_torn_tail_aside(tmp_path: Path) -> None:
    write_trail(tmp_path, days=1, per_day=3, close=False)
    path = day_file(tmp_path, 0)
    whole = path.read_bytes()
    with path.open("ab") as out:
        out.write(b'{"at":"2026-03-02T09:09:00+00:00","kind":"quote-in')  # the crash
    again = JsonlAudit(tmp_path)
    assert path.read_bytes() == whole
    assert (tmp_path / f"{path.name}.torn").read_bytes().startswith(b'{"at"')
    again.record("reconciled", DAY1, {"found-live": 0}, durable=True)
    again.close()
    chain = records(tmp_path)
    assert [r["kind"] for r in chain[-2:]] == ["audit-torn-tail", "reconciled"]
    assert chain[-2]["file"] == path.name
    assert chain[-2]["line"] == 4
    result = verify(tmp_path)
    assert result.intact, result.summary()
    assert result.last_seq == 5
    assert any(".torn" in note for note in result.notes)


def test_verify_one_file_checks_its_own_links(tmp_path: Path) -> None:
    write_trail(tmp_path)
    assert verify(day_file(tmp_path, 1)).intact
    _edit(day_file(tmp_path, 1), 0, n=7)
    assert verify(day_file(tmp_path, 1)).problem is not None


def test_the_cli_names_the_bad_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trail, anchor = tmp_path / "audit", tmp_path / "audit-anchor.json"
    write_trail(trail, key=KEY, anchor=anchor)
    monkeypatch.setenv("QUOTER_AUDIT_KEY", KEY.decode())
    command = ["audit", "verify", "--anchor", str(anchor), str(trail)]
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "intact, keyed; anchor at seq 12 reached: 12 records in 3 files" in out
    assert KEY.decode() not in out
    _edit(day_file(trail, 0), 3, kind="decline")
    assert main(command) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at {day_file(trail, 0).name}:4, seq 4: edited" in out


def test_an_unwritable_trail_raises_audit_error(tmp_path: Path) -> None:
    from quoter.audit import AuditError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    audit = JsonlAudit(blocker / "audit")
    with pytest.raises(AuditError):
        audit.record("rfq", DAY1, {})


# Run in a process of its own: the file size limit is the process's.
FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from quoter.audit import AuditError, JsonlAudit
from tests.audit.trails import DAY1, KEY

directory, failed_writes = Path(sys.argv[1]), int(sys.argv[2])
audit = JsonlAudit(directory, key=KEY)
audit.record("rfq", DAY1, {"n": 1})
size = next(directory.glob("audit-*.jsonl")).stat().st_size
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
unlimited = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, unlimited[1]))  # half a line fits
for n in range(failed_writes):
    try:
        audit.record("rfq", DAY1, {"n": f"lost {n}"})
    except AuditError as error:
        print(error)
    else:
        sys.exit("a write past the limit did not fail")
resource.setrlimit(resource.RLIMIT_FSIZE, unlimited)
audit.record("rfq", DAY1, {"n": 2})
audit.record("rfq", DAY1, {"n": 3}, durable=True)
audit.close()
"""


@pytest.mark.parametrize("failed_writes", [1, 3])
def test_a_failed_write_leaves_no_seq_twice_and_no_torn_line(
    tmp_path: Path, failed_writes: int
) -> None:
    """The disk refuses writes for a while (here the file size limit; a full disk or an
    immutable file alike), the first halfway through a line. Once it takes writes again the
    trail goes on from the last record written, and verifies: the failed records' seq is not
    on it twice, no line is glued to the remains of another."""
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path), str(failed_writes)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("cannot write the audit trail") == failed_writes
    chain = records(tmp_path)
    assert [(r["seq"], r["n"]) for r in chain] == [(1, 1), (2, 2), (3, 3)]
    result = verify(tmp_path, key=KEY)
    assert result.intact, result.summary()
