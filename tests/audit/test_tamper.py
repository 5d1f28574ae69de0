"""Tampering by someone without the key: truncation of the newest records (with and without a
restart), consistent rewrites with plain SHA-256, a wrong key, a deleted trail restarted, a
damaged head or anchor. Each is named by `verify`, and a start on it records the break."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from quoter.audit import JsonlAudit, verify
from quoter.audit.chain import GENESIS, canonical, mac
from quoter.audit.key import AuditKeyError, load_key
from quoter.audit.story import load_records
from quoter.audit.trail import BREAK_KIND, HEAD_FILE
from quoter.cli import main
from quoter.metrics.audit import chain_metrics
from tests.audit.trails import DAY1, KEY, day_file, lines_of, write_lines, write_trail


@pytest.fixture
def trail(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture
def anchor(tmp_path: Path) -> Path:
    return tmp_path / "audit-anchor.json"


def _records(directory: Path) -> list[dict[str, object]]:
    return list(load_records(directory))


def _rechain(directory: Path, edit: object = None, *, drop_kind: str | None = None) -> None:
    """What a tamperer without the key can do: rewrite the records, then re-seal every one
    with plain SHA-256 so that each links to the one before."""
    prev, seq = GENESIS, 0
    for path in sorted(directory.glob("audit-*.jsonl")):
        out = []
        for line in lines_of(path):
            record = orjson.loads(line)
            if record["kind"] == drop_kind:
                continue
            if callable(edit):
                edit(record)
            seq += 1
            record.update(seq=seq, prev=prev)
            record.pop("hash")
            record["hash"] = mac(canonical(record), None)
            prev = record["hash"]
            out.append(canonical(record) + b"\n")
        write_lines(path, out)


def _start(trail: Path, anchor: Path, key: bytes = KEY) -> JsonlAudit:
    """A restart: the bot's trail opened, one record written (the engine's start record)."""
    audit = JsonlAudit(trail, key=key, anchor_path=anchor)
    audit.record("start", DAY1.replace(day=5), {"run-id": "r2"}, durable=True)
    return audit


def _gauge(audit: JsonlAudit) -> float:
    (metric,) = chain_metrics(audit.health)
    assert metric.name == "quoter_audit_chain_ok"
    return float(metric.samples[0].value)


# -- truncation of the newest records --------------------------------------------------------


def test_cutting_the_newest_records_and_the_head_file_is_named(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    path = day_file(trail, 2)
    write_lines(path, lines_of(path)[:-2])
    (trail / HEAD_FILE).unlink()  # inside the trail: whoever cuts it deletes that too
    problem = verify(trail, key=KEY, anchor_path=anchor).problem
    assert problem is not None
    assert problem.seq == 11
    assert problem.why.startswith("truncated: the trail ends at seq 10 but the audit anchor")


def test_cutting_the_newest_records_after_a_crash_is_named(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor, close=False)  # no clean stop: no head file
    path = day_file(trail, 2)
    write_lines(path, lines_of(path)[:-4])  # the day's durable record (seq 9) and after
    problem = verify(trail, key=KEY, anchor_path=anchor).problem
    assert problem is not None
    assert (problem.seq, problem.why.split(" but ")[0]) == (9, "truncated: the trail ends at seq 8")


def test_a_restart_on_a_cut_trail_records_the_break_and_reuses_no_seq(
    trail: Path, anchor: Path
) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    path = day_file(trail, 2)
    write_lines(path, lines_of(path)[:-2])
    audit = _start(trail, anchor)
    assert not audit.health.ok
    assert audit.health.started_on_break
    assert _gauge(audit) == 0.0
    audit.close()
    new = _records(trail)[-2:]
    assert [r["kind"] for r in new] == [BREAK_KIND, "start"]
    assert [r["seq"] for r in new] == [13, 14]  # 11 and 12 were written once: never again
    assert new[0]["prev"] == GENESIS
    assert "truncated" in str(new[0]["why"])
    result = verify(trail, key=KEY, anchor_path=anchor)
    assert not result.intact
    assert result.problem is not None
    assert result.problem.seq == 13
    assert [b.seq for b in result.breaks] == [13]
    assert result.current is None  # the new chain itself verifies
    assert "the new chain verifies: seq 13..14" in result.summary()


def test_a_recorded_break_is_not_recorded_again_at_the_next_start(
    trail: Path, anchor: Path
) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    path = day_file(trail, 2)
    write_lines(path, lines_of(path)[:-2])
    _start(trail, anchor).close()
    again = _start(trail, anchor)
    again.close()
    assert again.health.ok
    assert _gauge(again) == 1.0
    assert [r["kind"] for r in _records(trail)].count(BREAK_KIND) == 1


# -- consistent rewrites without the key -----------------------------------------------------


def test_a_price_changed_and_the_chain_rehashed_with_sha256_is_named(
    trail: Path, anchor: Path
) -> None:
    write_trail(trail, key=KEY, anchor=anchor)

    def cheaper(record: dict[str, object]) -> None:
        if record["seq"] == 6:
            record["n"] = 999  # the "price"

    _rechain(trail, cheaper)
    result = verify(trail, key=KEY, anchor_path=anchor)
    assert result.problem is not None
    assert (result.problem.file, result.problem.line, result.problem.seq) == (
        day_file(trail, 0).name,
        1,
        1,
    )
    assert result.problem.why.startswith("rewritten without the key")


def test_a_rewrite_from_the_middle_is_named_at_its_first_record(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    lines, prev = [], ""
    path = day_file(trail, 1)
    for index, line in enumerate(lines_of(path)):
        record = orjson.loads(line)
        if index == 0:
            prev = str(record["prev"])  # the keyed seq 4 stays: the rewrite starts at seq 5
        if index == 1:
            record["n"] = 999
        record["prev"] = prev
        record.pop("hash")
        record["hash"] = prev = mac(canonical(record), None)
        lines.append(canonical(record) + b"\n")
    write_lines(path, lines)
    problem = verify(trail, key=KEY, anchor_path=anchor).problem
    assert problem is not None
    assert (problem.file, problem.line, problem.seq) == (path.name, 1, 5)
    assert problem.why == (
        "rewritten without the key: a plain SHA-256 seal where the chain is keyed (since seq 1)"
    )


def test_every_kill_record_deleted_and_the_chain_rehashed_is_named(
    trail: Path, anchor: Path
) -> None:
    audit = JsonlAudit(trail, key=KEY, anchor_path=anchor)
    for n in range(6):
        kind = "kill-switch" if n % 2 else "rfq"
        audit.record(kind, DAY1, {"n": n}, durable=True)
    audit.close()
    _rechain(trail, drop_kind="kill-switch")
    assert "kill-switch" not in {r["kind"] for r in _records(trail)}
    problem = verify(trail, key=KEY, anchor_path=anchor).problem
    assert problem is not None
    assert (problem.seq, problem.why.split(":")[0]) == (1, "rewritten without the key")


def test_a_whole_rewrite_with_the_anchor_deleted_is_not_intact_and_keyed(
    trail: Path, anchor: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    _rechain(trail)
    anchor.unlink()
    (trail / HEAD_FILE).unlink()
    result = verify(trail, key=KEY, anchor_path=anchor)
    assert result.keyed == 0
    assert result.unkeyed
    monkeypatch.setenv("QUOTER_AUDIT_KEY", KEY.decode())
    assert main(["audit", "verify", "--anchor", str(anchor), str(trail)]) == 3
    assert "LEGACY, UNKEYED" in capsys.readouterr().out


def test_a_wrong_key_fails_at_the_first_record(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    result = verify(trail, key=b"another-key-0123456789abcdef", anchor_path=anchor)
    assert result.problem is not None
    assert result.problem.seq == 1
    first = verify(trail, key=b"another-key-0123456789abcdef").problem
    assert first is not None
    assert (first.file, first.line, first.seq) == (day_file(trail, 0).name, 1, 1)
    assert first.why.startswith("edited: the record's MAC does not match")


def test_a_start_with_another_key_records_the_break(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    audit = _start(trail, anchor, key=b"another-key-0123456789abcdef")
    audit.close()
    assert not audit.health.ok
    assert [r["seq"] for r in _records(trail)[-2:]] == [13, 14]


# -- a deleted trail, restarted --------------------------------------------------------------


def test_a_deleted_trail_restarted_continues_after_the_anchor(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    for path in trail.iterdir():
        path.unlink()
    audit = _start(trail, anchor)
    audit.close()
    assert not audit.health.ok
    chain = _records(trail)
    assert [(r["seq"], r["kind"]) for r in chain] == [(13, BREAK_KIND), (14, "start")]
    assert "the trail ends at seq 0" in str(chain[0]["why"])
    assert chain[0]["anchor-seq"] == 12


def test_records_after_the_last_durable_one_are_not_reused_either(
    trail: Path, anchor: Path
) -> None:
    write_trail(trail, key=KEY, anchor=anchor, close=False)  # anchor at seq 9, trail at 12
    path = day_file(trail, 0)
    write_lines(path, lines_of(path)[:-1])  # seq 4 gone: the chain breaks in the middle
    _start(trail, anchor).close()
    assert [r["seq"] for r in _records(trail)[-2:]] == [13, 14]


# -- damaged head and anchor files -----------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"[1, 2]", b'{"seq": "12", "hash": 5}', b"\xff\xfe\x00"]
)
def test_a_damaged_head_file_is_named_not_a_crash(trail: Path, content: bytes) -> None:
    write_trail(trail)
    (trail / HEAD_FILE).write_bytes(content)
    result = verify(trail)
    assert result.problem is not None
    assert result.problem.file == HEAD_FILE
    assert main(["audit", "verify", "--no-anchor", str(trail)]) == 1


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[1, 2]", b'{"seq": 12}', b"\xff\xfe\x00", b'{"seq":99,"mac":"x",'],
)
def test_a_damaged_anchor_is_named_and_a_start_records_it(
    trail: Path, anchor: Path, content: bytes
) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    anchor.write_bytes(content)
    result = verify(trail, key=KEY, anchor_path=anchor)
    assert result.problem is not None
    assert result.problem.file == str(anchor)
    audit = _start(trail, anchor)
    audit.close()
    assert not audit.health.ok
    assert str(anchor) in str(_records(trail)[-2]["why"])


def test_an_anchor_edited_back_is_refused_by_its_signature(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    body = orjson.loads(anchor.read_bytes())
    records = _records(trail)
    body.update(seq=10, mac=records[9]["hash"])  # hide a cut of seq 11 and 12
    anchor.write_bytes(orjson.dumps(body))
    problem = verify(trail, key=KEY, anchor_path=anchor).problem
    assert problem is not None
    assert "signature does not verify" in problem.why


# -- the key, the files' modes ---------------------------------------------------------------


def test_the_key_file_is_made_owner_only_and_refused_when_open_to_others(tmp_path: Path) -> None:
    key_file = tmp_path / "audit-key"
    key = load_key(key_file, tmp_path / "audit", create=True)
    assert key is not None
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(key_file, tmp_path / "audit", create=False) == key
    key_file.chmod(0o644)
    with pytest.raises(AuditKeyError, match="open to others") as refused:
        load_key(key_file, tmp_path / "audit", create=False)
    assert key.decode() not in str(refused.value)
    with pytest.raises(AuditKeyError, match="inside the trail"):
        load_key(tmp_path / "audit" / "k", tmp_path / "audit", create=True)


def test_audit_files_and_the_anchor_are_owner_only(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor)
    for path in [*trail.iterdir(), anchor]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(trail.stat().st_mode) & 0o077 == 0


def test_the_key_never_reaches_a_record(trail: Path, anchor: Path) -> None:
    audit = JsonlAudit(trail, key=KEY, anchor_path=anchor)
    audit.record("error", DAY1, {"detail": f"something said {KEY.decode()}"}, durable=True)
    audit.close()
    assert KEY not in b"".join(p.read_bytes() for p in trail.iterdir())
    assert KEY not in anchor.read_bytes()


def test_an_audit_write_failure_sets_the_gauge_to_zero(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    audit = JsonlAudit(blocker / "audit", key=KEY, anchor_path=tmp_path / "a.json")
    assert _gauge(audit) == 1.0
    with pytest.raises(Exception, match="cannot write the audit trail"):
        audit.record("rfq", DAY1, {})
    assert _gauge(audit) == 0.0


def test_a_legacy_trail_is_taken_up_keyed(trail: Path, anchor: Path) -> None:
    write_trail(trail)  # written before the key
    _start(trail, anchor).close()
    result = verify(trail, key=KEY, anchor_path=anchor)
    assert result.intact, result.summary()
    assert (result.legacy, result.keyed) == (12, 1)
    assert "12 legacy, unkeyed records first" in result.summary()
    assert os.path.exists(anchor)


def test_a_damaged_newest_record_gets_no_successor_with_its_seq(trail: Path, anchor: Path) -> None:
    write_trail(trail, key=KEY, anchor=anchor, close=False)  # anchor at seq 9, trail at 12
    path = day_file(trail, 2)
    lines = lines_of(path)
    lines[-1] = b'{"seq": 12, "damaged\n'  # seq 12 was written; its line no longer says so
    write_lines(path, lines)
    _start(trail, anchor).close()
    assert [r["seq"] for r in _records(trail)[-2:]] == [13, 14]
