"""Proves a trail intact, or names the first record that was edited, removed, reordered,
truncated or rewritten without the key: the file, the line, the seq, and why.

With the audit key every record's MAC is checked, a plain SHA-256 seal where the chain is keyed
is a rewrite, and the anchor (outside the trail) must be reached: a trail cut back behind it is
truncated. A new chain the bot started on a break (an `audit-chain-break` record, chained from
GENESIS) is followed from there, the break reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from quoter.audit.anchor import Anchor, AnchorDamaged, read_anchor
from quoter.audit.chain import FILE_GLOB, GENESIS, Line, read_lines, sealed_by
from quoter.audit.findings import Problem, Verification, fail

HEAD_FILE = "audit-head.json"
BREAK_KIND = "audit-chain-break"
NEEDS_KEY = "not a plain SHA-256 seal: sealed under a key, or edited; only the key can tell"
__all__ = [
    "BREAK_KIND",
    "HEAD_FILE",
    "Problem",
    "Verification",
    "check",
    "read_head",
    "trail_files",
    "verify",
]


def trail_files(path: Path) -> list[Path]:
    return sorted(path.glob(FILE_GLOB)) if path.is_dir() else [path]


def verify(
    path: Path, *, key: bytes | None = None, anchor_path: Path | None = None
) -> Verification:
    """Verify a directory of daily files (the whole chain, from GENESIS, and the anchor if one
    is named) or one file (its own records chain to each other; its first `prev` is taken on
    trust). Never raises on damaged files: each is a problem naming the file."""
    files = trail_files(path)
    whole_trail = path.is_dir()
    contents = [(file.name, _read(file)) for file in files]
    anchor: Anchor | Problem | None = None
    if whole_trail and anchor_path is not None:
        try:
            anchor = read_anchor(anchor_path, key)
        except AnchorDamaged as error:
            anchor = Problem(str(anchor_path), 0, None, str(error).split(": ", 1)[-1])
    head = read_head(path) if whole_trail else None
    named = str(anchor_path) if whole_trail and anchor_path is not None else None
    result = check(
        contents, key=key, anchor=anchor, head=head, whole_trail=whole_trail, anchor_named=named
    )
    if whole_trail:
        result.notes.extend(
            f"note: {p.name} holds a torn tail set aside" for p in _torn_files(path)
        )
    return result


def _read(file: Path) -> list[Line] | str:
    try:
        return read_lines(file.read_bytes())
    except OSError as error:
        return f"cannot read ({error.strerror})"


def check(
    contents: Sequence[tuple[str, list[Line] | str]],
    *,
    key: bytes | None,
    anchor: Anchor | Problem | None,
    head: tuple[int, str] | Problem | None,
    whole_trail: bool = True,
    anchor_named: str | None = None,
) -> Verification:
    """The chain's rules over files already read (name, lines or why they could not be).
    `anchor_named`: where the anchor should be; a keyed trail without one fails."""
    walk = _Walk(key, anchor if isinstance(anchor, Anchor) else None, whole_trail)
    walk.result.files = len(contents)
    walk.result.anchor = anchor if isinstance(anchor, Anchor) else None
    for index, (name, lines) in enumerate(contents):
        walk.file(name, lines, newest=index == len(contents) - 1, first=index == 0)
    result = walk.result
    for damaged in (anchor, head):
        if isinstance(damaged, Problem):
            fail(result, damaged)
    if isinstance(head, tuple) and result.current is None:
        walk.reach(head, HEAD_FILE, "written at the last clean stop")
    if isinstance(anchor, Anchor) and result.current is None:
        walk.reach(
            (anchor.seq, anchor.mac), "the audit anchor", "written at the last durable write"
        )
    if anchor_named is not None and anchor is None and result.keyed:
        why = "no audit anchor: the trail is keyed, so a cut of its newest records cannot be ruled out"
        fail(result, Problem(anchor_named, 0, None, why))
    return result


class _Walk:
    """The verifier's walk along the lines, file by file, in the chain's order."""

    def __init__(self, key: bytes | None, anchor: Anchor | None, whole_trail: bool) -> None:
        self.result = Verification()
        self.key = key
        self.anchor = anchor
        self.expected_seq: int | None = 1 if whole_trail else None
        self.prev: str | None = GENESIS if whole_trail else None
        self.keyed_from = anchor.keyed_from if anchor is not None else None
        self.skipping = False
        self.last_file = "(no file)"
        self.sealed: str | None = None  # how the record just checked was sealed

    def file(self, name: str, lines: list[Line] | str, *, newest: bool, first: bool) -> None:
        self.last_file = name
        if isinstance(lines, str):
            self.fail(Problem(name, 0, None, lines))
            return
        if not lines:
            self.result.notes.append(f"note: {name} is empty")
        seqs_here = {line.record["seq"] for line in lines if line.record is not None}
        for line in lines:
            if line.torn and newest and line is lines[-1]:
                self.result.torn = Problem(
                    name, line.number, self.result.last_seq + 1, line.problem or ""
                )
                return
            self.line(name, line, first_in_file=line is lines[0] and not first, seqs=seqs_here)

    def line(self, name: str, line: Line, *, first_in_file: bool, seqs: set[Any]) -> None:
        record, result = line.record, self.result
        if record is not None and self._starts_new_chain(record):
            self._new_chain(name, line.number, record)
            return
        if record is not None:
            result.max_seq = max(result.max_seq, int(record["seq"]))
        else:
            result.unreadable += 1
        if self.skipping:
            return
        seq = record["seq"] if record is not None else None
        why = self._check(line, first_in_file=first_in_file)
        if why is not None and why.startswith("removed") and self.expected_seq in seqs:
            why = f"reordered: expected seq {self.expected_seq}, found {seq} (it comes later)"
        if why is not None:
            problem = Problem(name, line.number, seq, why)
            if why == NEEDS_KEY and self.result.needs_key is None:
                self.result.needs_key = problem
            self.fail(problem)
            return
        assert record is not None
        self._take(record, self.sealed)
        if self.anchor is not None and self.anchor.seq == result.last_seq:
            self.reach((self.anchor.seq, self.anchor.mac), "the audit anchor", "", at=(name, line))

    def fail(self, problem: Problem) -> None:
        fail(self.result, problem)
        self.skipping = True

    def reach(
        self,
        target: tuple[int, str],
        what: str,
        when: str,
        at: tuple[str, Line] | None = None,
    ) -> None:
        """The chain must reach `target` (seq and seal) written outside it."""
        result = self.result
        seq, seal = target
        if seq > result.last_seq:
            self.fail(
                Problem(
                    self.last_file,
                    0,
                    result.last_seq + 1,
                    f"truncated: the trail ends at seq {result.last_seq} but {what} "
                    f"({when}) says seq {seq}",
                )
            )
        elif seq == result.last_seq and seal != result.head:
            file, number = (at[0], at[1].number) if at is not None else (self.last_file, 0)
            why = f"edited or replaced: its seal does not match {what}"
            self.fail(Problem(file, number, seq, why))

    def _starts_new_chain(self, record: dict[str, Any]) -> bool:
        return (
            record["kind"] == BREAK_KIND
            and record["prev"] == GENESIS
            and self.key is not None
            and sealed_by(record, self.key) == "keyed"
        )

    def _new_chain(self, name: str, number: int, record: dict[str, Any]) -> None:
        """A break the bot recorded: the old chain is broken (reported), the new one checked."""
        result, seq = self.result, int(record["seq"])
        said = Problem(name, number, seq, f"the old chain broke: {record.get('why', '?')}")
        if seq <= result.max_seq:
            self.fail(Problem(name, number, seq, f"seq reused: seq {result.max_seq} came before"))
            return
        fail(result, said)
        result.breaks.append(said)
        result.current, self.skipping = None, False
        result.records = result.keyed = result.legacy = 0
        result.first_seq, result.first_at, result.first_keyed = 0, None, None
        result.last_at, result.runs = None, 0
        self.keyed_from = seq
        result.max_seq = seq
        self._take(record, "keyed")

    def _check(self, line: Line, *, first_in_file: bool) -> str | None:
        if line.record is None:
            return f"truncated or damaged: {line.problem}"
        record, seq, prev = line.record, self.expected_seq, self.prev
        sealed = self.sealed = sealed_by(record, self.key)
        if sealed is None:
            if self._may_be_keyed(record):
                return NEEDS_KEY
            if self.key is None:
                return "edited: the record's hash does not match its content"
            return "edited: the record's MAC does not match its content (edited, or another key)"
        found = record["seq"]
        if seq is not None and found != seq:
            if found > seq:
                where = (
                    "a whole day file or its tail"
                    if first_in_file
                    else f"record(s) {seq}..{found - 1}"
                )
                return f"removed: expected seq {seq}, found {found} ({where} missing)"
            return f"reordered: expected seq {seq}, found {found}"
        if prev is not None and record["prev"] != prev:
            if first_in_file:
                return "chain broken across files: prev is not the previous file's last hash"
            return f"chain broken: prev is not the hash of seq {found - 1} (edited or replaced)"
        keyed_since = self.result.first_keyed or self.keyed_from
        if sealed == "legacy" and self.key is not None and found >= (keyed_since or found + 1):
            return (
                "rewritten without the key: a plain SHA-256 seal where the chain is keyed "
                f"(since seq {keyed_since})"
            )
        return None

    def _may_be_keyed(self, record: dict[str, Any]) -> bool:
        """Given no key, whether a record sealed neither way may be sealed under one: the
        chain's first record, or one from the seq the anchor says the chain is keyed from."""
        if self.key is not None:
            return False
        keyed_from = self.keyed_from
        return self.result.records == 0 or (keyed_from is not None and record["seq"] >= keyed_from)

    def _take(self, record: dict[str, Any], sealed: str | None) -> None:
        result = self.result
        result.records += 1
        result.last_seq = int(record["seq"])
        result.max_seq = max(result.max_seq, result.last_seq)
        result.head = str(record["hash"])
        result.first_seq = result.first_seq or result.last_seq
        result.see_time(str(record["at"]))
        result.runs += record.get("kind") == "start"
        if sealed == "keyed":
            result.keyed += 1
            if result.first_keyed is None:
                result.first_keyed = result.last_seq
        else:
            result.legacy += 1
        self.expected_seq, self.prev = result.last_seq + 1, result.head


def read_head(directory: Path) -> tuple[int, str] | Problem | None:
    """The head written at the last clean close (inside the trail: a legacy check)."""
    head_path = directory / HEAD_FILE
    if not head_path.exists() and not head_path.is_symlink():
        return None
    try:
        head = orjson.loads(head_path.read_bytes())
    except OSError as error:
        return Problem(HEAD_FILE, 0, None, f"cannot read the head file ({error.strerror})")
    except orjson.JSONDecodeError:
        return Problem(HEAD_FILE, 1, None, "the head file is not JSON")
    seq = head.get("seq") if isinstance(head, dict) else None
    seal = head.get("hash") if isinstance(head, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(seal, str):
        return Problem(HEAD_FILE, 1, None, "the head file lacks seq or hash of the right type")
    return seq, seal


def _torn_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("audit-*.jsonl.torn"))
