"""Proves a trail intact, or names the first record that was edited, removed, reordered or
truncated: the file, the line, the seq, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from quoter.audit.chain import FILE_GLOB, GENESIS, Line, digest, read_lines
from quoter.audit.trail import HEAD_FILE


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    seq: int | None
    why: str

    def __str__(self) -> str:
        seq = "" if self.seq is None else f", seq {self.seq}"
        return f"{self.file}:{self.line}{seq}: {self.why}"


@dataclass(slots=True)
class Verification:
    """What `verify` found. `problem` is the first bad record; a torn last line of the newest
    file (a crash mid-write) is `torn`, not a problem: everything before it verifies."""

    files: int = 0
    records: int = 0
    first_at: str | None = None
    last_at: str | None = None
    last_seq: int = 0
    head: str = GENESIS
    problem: Problem | None = None
    torn: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return (
                f"BROKEN at {self.problem}\n"
                f"intact before it: {self.records} records, up to seq {self.last_seq}"
            )
        lines = [
            f"intact: {self.records} records in {self.files} files, "
            f"seq 1..{self.last_seq}, {self.first_at} .. {self.last_at}",
            f"head {self.head}",
        ]
        if self.torn is not None:
            lines.append(f"torn tail at {self.torn}; the trail verifies up to seq {self.last_seq}")
        lines.extend(self.notes)
        return "\n".join(lines)


def trail_files(path: Path) -> list[Path]:
    return sorted(path.glob(FILE_GLOB)) if path.is_dir() else [path]


def verify(path: Path) -> Verification:
    """Verify a directory of daily files (the whole chain, from GENESIS) or one file (its own
    records chain to each other; its first record's `prev` is taken on trust)."""
    files = trail_files(path)
    result = Verification(files=len(files))
    whole_trail = path.is_dir()
    expected_seq: int | None = 1 if whole_trail else None
    prev: str | None = GENESIS if whole_trail else None
    anchor = _read_head(path) if whole_trail else None
    for index, file in enumerate(files):
        lines = read_lines(file.read_bytes())
        seqs_here = {line.record["seq"] for line in lines if line.record is not None}
        if not lines:
            result.notes.append(f"note: {file.name} is empty")
        for line in lines:
            if line.torn and index == len(files) - 1 and line is lines[-1]:
                result.torn = Problem(
                    file.name, line.number, result.last_seq + 1, line.problem or ""
                )
                break
            seq = line.record["seq"] if line.record is not None else None
            why = _check(line, expected_seq, prev, first_in_file=line is lines[0] and index > 0)
            if why is not None and why.startswith("removed") and expected_seq in seqs_here:
                why = f"reordered: expected seq {expected_seq}, found {seq} (it comes later)"
            if why is not None:
                result.problem = Problem(file.name, line.number, seq, why)
                return result
            assert line.record is not None
            _take(result, line.record)
            if anchor is not None and anchor[0] == result.last_seq and anchor[1] != result.head:
                why = f"edited: the hash does not match {HEAD_FILE} (written at a clean stop)"
                result.problem = Problem(file.name, line.number, result.last_seq, why)
                return result
            expected_seq, prev = result.last_seq + 1, result.head
    if anchor is not None and anchor[0] > result.last_seq:
        result.problem = Problem(
            files[-1].name if files else "(no file)",
            0,
            result.last_seq + 1,
            f"truncated: the trail ends at seq {result.last_seq} "
            f"but {HEAD_FILE} (written at the last clean stop) says seq {anchor[0]}",
        )
        return result
    if whole_trail:
        result.notes.extend(
            f"note: {p.name} holds a torn tail set aside" for p in _torn_files(path)
        )
    return result


def _check(line: Line, seq: int | None, prev: str | None, *, first_in_file: bool) -> str | None:
    if line.record is None:
        return f"truncated or damaged: {line.problem}"
    record = line.record
    if digest(record) != record["hash"]:
        return "edited: the record's hash does not match its content"
    found = record["seq"]
    if seq is not None and found != seq:
        if found > seq:
            where = (
                "a whole day file or its tail" if first_in_file else f"record(s) {seq}..{found - 1}"
            )
            return f"removed: expected seq {seq}, found {found} ({where} missing)"
        return f"reordered: expected seq {seq}, found {found}"
    if prev is not None and record["prev"] != prev:
        if first_in_file:
            return "chain broken across files: prev is not the previous file's last hash"
        return f"chain broken: prev is not the hash of seq {found - 1} (edited or replaced)"
    return None


def _take(result: Verification, record: dict[str, Any]) -> None:
    result.records += 1
    result.last_seq = int(record["seq"])
    result.head = str(record["hash"])
    result.first_at = result.first_at or str(record["at"])
    result.last_at = str(record["at"])


def _read_head(directory: Path) -> tuple[int, str] | None:
    """The head written at the last clean close: the trail must reach it, through it."""
    head_path = directory / HEAD_FILE
    if not head_path.exists():
        return None
    head = orjson.loads(head_path.read_bytes())
    return int(head["seq"]), str(head["hash"])


def _torn_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("audit-*.jsonl.torn"))
