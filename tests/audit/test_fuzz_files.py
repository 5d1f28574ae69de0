"""Damaged audit files, many ways, seeded: `verify` names a problem in the damaged file (or
accepts what is rightly whole), the CLI exits 1 without a traceback, and the bot's start
records the break (or refuses with an AuditError naming the file). Never another exception."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from quoter.audit import AuditError, JsonlAudit, verify
from quoter.audit.key import AuditKeyError, load_key
from quoter.audit.trail import BREAK_KIND, HEAD_FILE
from quoter.cli import main
from tests.audit.trails import DAY1, KEY, day_file, lines_of, write_lines, write_trail

CASES_PER_KIND = 12
Damage = Callable[[Path, Path, random.Random], str]  # trail, anchor, rng -> the damaged file


def _line_index(trail: Path, rng: random.Random) -> tuple[Path, list[bytes], int]:
    path = day_file(trail, rng.randrange(3))
    lines = lines_of(path)
    return path, lines, rng.randrange(len(lines))


def damaged_line(trail: Path, _anchor: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    line = bytearray(lines[i])
    for _ in range(rng.randint(1, 3)):
        line[rng.randrange(len(line) - 1)] = rng.randrange(256)
    lines[i] = bytes(line).replace(b"\n", b" ")[:-1] + b"\n"
    write_lines(path, lines)
    return path.name


def binary_garbage(trail: Path, _anchor: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    garbage = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))).replace(b"\n", b"")
    lines.insert(i, garbage + b"\n")
    write_lines(path, lines)
    return path.name


def truncated_json(trail: Path, _: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    lines[i] = lines[i][: rng.randrange(1, len(lines[i]) - 1)] + b"\n"
    write_lines(path, lines)
    return path.name


def missing_field(trail: Path, _: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    record = orjson.loads(lines[i])
    del record[rng.choice(["seq", "at", "kind", "prev", "hash", "n"])]
    lines[i] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
    write_lines(path, lines)
    return path.name


def wrong_type(trail: Path, _: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    record = orjson.loads(lines[i])
    field = rng.choice(["seq", "at", "kind", "prev", "hash"])
    record[field] = rng.choice([None, True, 1.5, "7", [1], {"a": 1}])
    lines[i] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
    write_lines(path, lines)
    return path.name


def duplicated_seq(trail: Path, _: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    lines.insert(rng.randrange(i, len(lines)) + 1, lines[i])
    write_lines(path, lines)
    return path.name


def reordered(trail: Path, _: Path, rng: random.Random) -> str:
    path, lines, i = _line_index(trail, rng)
    j = rng.choice([k for k in range(len(lines)) if k != i])
    lines[i], lines[j] = lines[j], lines[i]
    write_lines(path, lines)
    return path.name


def directory_in_place(trail: Path, anchor: Path, rng: random.Random) -> str:
    target = rng.choice([day_file(trail, 0), day_file(trail, 1), anchor, trail / HEAD_FILE])
    target.unlink()
    target.mkdir()
    return target.name if target.parent == trail else str(target)


def damaged_anchor(_: Path, anchor: Path, rng: random.Random) -> str:
    content = anchor.read_bytes()
    anchor.write_bytes(content[: rng.randrange(len(content))] + rng.randbytes(rng.randrange(4)))
    return str(anchor)


KINDS: dict[str, Damage] = {
    "damaged line (bytes flipped)": damaged_line,
    "binary garbage line": binary_garbage,
    "truncated JSON line": truncated_json,
    "missing field": missing_field,
    "field of the wrong type": wrong_type,
    "duplicated seq": duplicated_seq,
    "reordered lines": reordered,
    "directory in place of a file": directory_in_place,
    "damaged anchor": damaged_anchor,
}


@dataclass
class Tally:
    tried: int = 0
    refused: int = 0  # verify named the damaged file; the start recorded a break or refused
    accepted: int = 0  # nothing of substance changed (a flip re-canonicalised to the same)
    crashed: int = 0


def _start(trail: Path, anchor: Path) -> str:
    """The bot's start: 'break' (a new chain, the break recorded), 'refused' (an AuditError
    naming a path) or 'intact'."""
    try:
        audit = JsonlAudit(trail, key=KEY, anchor_path=anchor)
        audit.record("start", DAY1.replace(day=5), {"run-id": "fuzz"}, durable=True)
        audit.close()
    except AuditError as error:
        said = str(error)
    else:
        said = ""
    if said:
        assert str(trail) in said or str(anchor) in said, said
        return "refused"
    if not audit.health.ok:
        assert any(line.find(BREAK_KIND.encode()) >= 0 for line in _all_lines(trail))
        return "break"
    return "intact"


def _all_lines(trail: Path) -> list[bytes]:
    return [
        line for p in sorted(trail.glob("audit-*.jsonl")) if p.is_file() for line in lines_of(p)
    ]


def tally_kind(tmp: Path, damage: Damage, seed: int) -> Tally:
    # One whole trail written (its fsyncs) for the kind; each case damages a copy of it (the
    # copy keeps the files' modes; nothing in the trail or anchor names their folder).
    pristine = tmp / "pristine"
    write_trail(pristine / "audit", key=KEY, anchor=pristine / "audit-anchor.json")
    tally = Tally()
    for case in range(CASES_PER_KIND):
        rng = random.Random(seed * 1000 + case)
        work = tmp / f"case-{case}"
        trail, anchor = work / "audit", work / "audit-anchor.json"
        shutil.copytree(pristine, work)
        tally.tried += 1
        try:
            where = damage(trail, anchor, rng)
            result = verify(trail, key=KEY, anchor_path=anchor)
            code = main(["audit", "verify", "--anchor", str(anchor), str(trail)])
            started = _start(trail, anchor)
        except Exception:  # the tally's job: any other exception is a crash
            tally.crashed += 1
            continue
        if result.problem is None:
            assert code == 0
            assert started == "intact"
            tally.accepted += 1
        else:
            assert where in str(result.problem), (where, str(result.problem))
            assert code == 1
            assert started in {"break", "refused"}
            tally.refused += 1
        shutil.rmtree(work)
    return tally


@pytest.mark.parametrize("kind", list(KINDS))
def test_damaged_audit_files_are_named_never_a_crash(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUOTER_AUDIT_KEY", KEY.decode())
    tally = tally_kind(tmp_path, KINDS[kind], seed=list(KINDS).index(kind))
    assert tally.crashed == 0
    assert tally.refused + tally.accepted == tally.tried
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "make", ["directory", "empty", "garbage", "short", "open to others"], ids=str
)
def test_a_damaged_key_file_refuses_the_start_naming_it(tmp_path: Path, make: str) -> None:
    key_file = tmp_path / "audit-key"
    if make == "directory":
        key_file.mkdir()
    else:
        content = {"empty": b"", "garbage": b"\xff\x00" * 3, "short": b"abc"}.get(make, KEY)
        key_file.write_bytes(content)
        key_file.chmod(0o644 if make == "open to others" else 0o600)
    with pytest.raises(AuditKeyError) as refused:
        load_key(key_file, tmp_path / "audit", create=True)
    assert str(key_file) in str(refused.value)
    assert KEY.decode() not in str(refused.value)


def fuzz_table(tmp: Path) -> str:
    """The table for the report: `python -m tests.audit.test_fuzz_files`."""
    rows = ["input kind | tried | refused cleanly | accepted rightly | crashed or traceback"]
    for index, (kind, damage) in enumerate(KINDS.items()):
        t = tally_kind(tmp / str(index), damage, seed=index)
        rows.append(f"{kind} | {t.tried} | {t.refused} | {t.accepted} | {t.crashed}")
    return "\n".join(rows)


if __name__ == "__main__":
    import contextlib
    import io
    import os
    import tempfile

    os.environ["QUOTER_AUDIT_KEY"] = KEY.decode()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        table = fuzz_table(Path(tmp))
    print(table)
