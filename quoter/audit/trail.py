"""The audit trail as the engine writes it: JSON lines in daily files `audit-YYYY-MM-DD.jsonl`
(owner-only), chained by HMAC under the audit key across files and across restarts.

A durable record (the intent to send a quote) is fsynced before `record` returns, and then the
anchor (seq and MAC of the head, outside the trail) is replaced. On start the whole trail is
verified: intact, the chain resumes from its last record; broken (edited, cut back behind the
anchor, rewritten, a damaged file or anchor), a new chain starts at max(trail, anchor) + 1 with
an `audit-chain-break` record naming where the old one broke, and `health` says so. A torn last
line (a crash mid-write) is moved to `<file>.torn` and an `audit-torn-tail` record says so. The
engine writes from its event loop only: no locking here.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import orjson

from quoter.audit import events
from quoter.audit.anchor import Anchor, AnchorDamaged, read_anchor, write_anchor
from quoter.audit.chain import FILE_GLOB, GENESIS, Line, read_lines, seal
from quoter.audit.scrub import Scrubber
from quoter.audit.verify import (
    BREAK_KIND,
    HEAD_FILE,
    Problem,
    Verification,
    check,
    read_head,
)
from quoter.basics.private_file import write_private

log = logging.getLogger(__name__)

TORN_KIND = events.TornTailSetAside.kind
__all__ = ["BREAK_KIND", "HEAD_FILE", "Audit", "AuditError", "ChainHealth", "JsonlAudit"]


class AuditError(Exception):
    """The trail cannot be written; the message names the file."""


class Audit(Protocol):
    """The port the engine records through: typed events, encoded (if at all) behind it."""

    def write(
        self, event: events.Event | events.Unknown, at: datetime, *, durable: bool = False
    ) -> None:
        """Append `event`, stamped `at`; `durable` waits until it is on disk."""
        ...

    def keeps(self, kind: type[events.Event]) -> bool:
        """Whether events of `kind` are kept. The engine asks once, and does not build the
        frequent events its audit would throw away (a replay keeps its decisions only); the
        trail keeps every kind."""
        ...


@dataclass(slots=True)
class ChainHealth:
    """Whether the chain the bot writes verifies: it started intact (or on a break, recorded)
    and every write since succeeded. `problem` says what is wrong, never a secret."""

    ok: bool = True
    problem: str | None = None
    started_on_break: bool = False


class JsonlAudit:
    """Daily files under `directory`, sealed with `key` (None: plain SHA-256, the legacy chain,
    for tests and tools only); the anchor at `anchor_path`, outside the trail. Values equal to
    `secret_values` are redacted too."""

    def __init__(
        self,
        directory: Path,
        *,
        key: bytes | None = None,
        anchor_path: Path | None = None,
        secret_values: Iterable[str] = (),
    ) -> None:
        self._directory = directory
        self._key = key
        self._anchor_path = anchor_path if key is not None else None
        self._scrubber = Scrubber(
            [*secret_values, *([key.decode(errors="replace")] if key else [])]
        )
        self._day: str | None = None
        self._file: IO[bytes] | None = None
        self._cut_to: int | None = None  # the open file's size before a write that failed
        self._synced_dir = False
        self._seq = 0
        self._head = GENESIS
        self._keyed_from: int | None = None
        self._torn: dict[str, object] | None = None
        self._break: dict[str, object] | None = None
        self._anchor_dir_made = False
        self.health = ChainHealth()
        if self._anchor_path is not None and _inside(self._anchor_path, directory):
            raise AuditError(
                f"{self._anchor_path}: the audit anchor is inside the trail ({directory}); "
                "keep it outside"
            )
        try:
            self._resume()
        except OSError as error:
            raise AuditError(
                f"{directory}: cannot read the audit trail: {error.strerror}"
            ) from None

    @property
    def head(self) -> tuple[int, str]:
        """The last record written: its seq and hash (0 and GENESIS before the first)."""
        return self._seq, self._head

    def write(
        self, event: events.Event | events.Unknown, at: datetime, *, durable: bool = False
    ) -> None:
        """Encode `event` (the codec's one place on the way in) and append it."""
        self.record(event.kind, at, events.encode(event), durable=durable)

    def keeps(self, kind: type[events.Event]) -> bool:
        return True  # the trail is the desk's record: every kind, always

    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        """Append a record's data as given: what `write` does after encoding; for tools and
        tests that must write what no event holds (a foreign or a damaged record)."""
        try:
            if self._break is not None:
                broke, self._break = self._break, None
                self._append(BREAK_KIND, at, broke, durable=True)
            if self._torn is not None:
                torn, self._torn = self._torn, None
                self._append(TORN_KIND, at, torn, durable=True)
            self._append(kind, at, self._scrubber.scrub(data), durable=durable)
        except (OSError, TypeError, orjson.JSONEncodeError) as error:
            message = f"{self._directory}: cannot write the audit trail: {_said(error)}"
            self.health.ok, self.health.problem = False, message
            raise AuditError(message) from None

    def _append(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool
    ) -> None:
        record, line = seal(self._seq + 1, at.isoformat(), kind, data, self._head, self._key)
        handle = self._handle(at)
        self._append_line(handle.fileno(), line)
        self._seq = self._seq + 1
        self._head = str(record["hash"])
        if self._keyed_from is None:
            self._keyed_from = self._seq
        if durable:
            os.fsync(handle.fileno())
            if not self._synced_dir:
                _fsync_dir(self._directory)  # the new day file's name is durable too
                self._synced_dir = True
            self._write_anchor()

    def _append_line(self, descriptor: int, line: bytes) -> None:
        """Append `line` whole, or leave the file as it was before it. A write that failed (a
        full disk, an immutable file) may have left part of a line: it is cut back first, so
        the seq the failed record would have had is never on the trail twice, and no line is
        glued to the remains of another. Unbuffered: nothing failed waits in a buffer to be
        written later with the records after it."""
        if self._cut_to is not None:
            os.ftruncate(descriptor, self._cut_to)
            self._cut_to = None
        size = os.fstat(descriptor).st_size
        self._cut_to = size  # until the whole line is written
        view = memoryview(line)
        while view:
            view = view[os.write(descriptor, view) :]
        self._cut_to = None

    def _write_anchor(self) -> None:
        if self._anchor_path is None or self._key is None or self._keyed_from is None:
            return
        anchor = Anchor(self._seq, self._head, self._keyed_from)
        if not self._anchor_dir_made:
            self._anchor_path.parent.mkdir(parents=True, exist_ok=True)
            self._anchor_dir_made = True
        write_anchor(self._anchor_path, anchor, self._key)

    def _handle(self, at: datetime) -> IO[bytes]:
        # A file's day never goes back: a record stamped before the open day's (a clock that
        # stepped back) joins the open file, so the files in name order are the chain's order.
        day = _utc_day(at)
        if self._day is not None and day < self._day:
            day = self._day
        if self._file is None or day != self._day:
            self._close_file()
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._file = _open_owner_only(self._directory / f"audit-{day}.jsonl", buffered=False)
            self._day = day
            self._synced_dir = False
        return self._file

    def close(self) -> None:
        """Close the open file and write the head (seq and hash of the last record), which lets
        `verify` see whole records cut from the end of the trail."""
        self._close_file()
        if self._seq == 0 or self._break is not None:
            return
        head = {"seq": self._seq, "hash": self._head, "day": self._day}
        path = self._directory / HEAD_FILE
        try:
            self._write_anchor()
            write_private(path, orjson.dumps(head))
        except OSError as error:
            raise AuditError(f"{path}: cannot write the audit head: {_said(error)}") from None

    def _close_file(self) -> None:
        if self._file is not None:
            if self._cut_to is not None:  # a failed write's remains, if any, are not kept
                # If they cannot be cut, the next start sets the torn line aside.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._file.fileno(), self._cut_to)
                self._cut_to = None
            self._file.close()
            self._file = None

    # -- resuming -------------------------------------------------------------------------------

    def _resume(self) -> None:
        """Take up the chain at its last record if it verifies; else start a new one."""
        files = sorted(self._directory.glob(FILE_GLOB)) if self._directory.is_dir() else []
        if files:
            self._day = files[-1].name.removeprefix("audit-").removesuffix(".jsonl")
            newest = files[-1]
            if newest.is_file():
                lines = read_lines(newest.read_bytes())
                if lines and lines[-1].torn:
                    self._set_aside(newest, lines[-1].number)
        contents = [(file.name, _read(file)) for file in files]
        if self._key is None:
            self._resume_unchecked(contents)
            return
        anchor = self._read_anchor()
        head = read_head(self._directory) if self._directory.is_dir() else None
        named = str(self._anchor_path) if self._anchor_path is not None else None
        found = check(contents, key=self._key, anchor=anchor, head=head, anchor_named=named)
        if found.current is None:
            self._seq, self._head = found.last_seq, found.head
            self._keyed_from = found.first_keyed
            if found.legacy:
                log.warning(
                    "audit trail %s: seq %d..%d are legacy, unkeyed records; keyed from here",
                    self._directory,
                    found.first_seq,
                    found.first_seq + found.legacy - 1,
                )
            return
        self._start_new_chain(found, found.current, anchor)

    def _read_anchor(self) -> Anchor | Problem | None:
        if self._anchor_path is None:
            return None
        try:
            return read_anchor(self._anchor_path, self._key)
        except AnchorDamaged as error:
            return Problem(str(self._anchor_path), 0, None, str(error).split(": ", 1)[-1])

    def _resume_unchecked(self, contents: list[tuple[str, list[Line] | str]]) -> None:
        for _, lines in reversed(contents):
            whole = [] if isinstance(lines, str) else [li.record for li in lines if li.record]
            if whole:
                self._seq, self._head = int(whole[-1]["seq"]), str(whole[-1]["hash"])
                return

    def _start_new_chain(
        self, found: Verification, problem: Problem, anchor: Anchor | Problem | None
    ) -> None:
        """The old chain is broken: a new one from GENESIS, its seqs after every seq seen."""
        anchor_seq = anchor.seq if isinstance(anchor, Anchor) else None
        # A damaged line's seq is unknown: count each as one more, so none can be reused.
        last = max(found.max_seq + found.unreadable, anchor_seq or 0)
        self._seq, self._head, self._keyed_from = last, GENESIS, None
        self._break = events.encode(
            events.ChainBroke(
                why=str(problem),
                file=problem.file,
                line=problem.line,
                broken_seq=problem.seq,
                last_seq_read=found.max_seq,
                anchor_seq=anchor_seq,
            )
        )
        message = f"audit chain broken at {problem}; a new chain starts at seq {last + 1}"
        self.health = ChainHealth(ok=False, problem=message, started_on_break=True)
        log.error("audit trail %s: %s", self._directory, message)

    def _set_aside(self, path: Path, line_number: int) -> None:
        """Move the torn tail to `<file>.torn` and cut the file back to its last whole line."""
        content = path.read_bytes()
        keep = content.rfind(b"\n") + 1
        tail = content[keep:]
        torn_path = path.with_name(path.name + ".torn")
        with _open_owner_only(torn_path) as out:
            out.write(tail + b"\n")
            out.flush()
            os.fsync(out.fileno())
        with path.open("r+b") as out:
            out.truncate(keep)
            out.flush()
            os.fsync(out.fileno())
        if self._torn is None:
            self._torn = events.encode(
                events.TornTailSetAside(
                    file=path.name,
                    line=line_number,
                    size_bytes=len(tail),
                    sha256=hashlib.sha256(tail).hexdigest(),
                    set_aside_to=torn_path.name,
                )
            )


def _open_owner_only(path: Path, *, truncate: bool = False, buffered: bool = True) -> IO[bytes]:
    """Open for appending (or rewriting), created 0600; an older file open to others is made
    owner-only too."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND)
    descriptor = os.open(path, flags, 0o600)
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, 0o600)
        return os.fdopen(descriptor, "wb" if truncate else "ab", buffering=-1 if buffered else 0)
    except BaseException:
        os.close(descriptor)
        raise


def _read(file: Path) -> list[Line] | str:
    try:
        return read_lines(file.read_bytes())
    except OSError as error:
        return f"cannot read ({error.strerror})"


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _said(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f": {error.filename}" if error.filename else "")
    return str(error)


def _utc_day(at: datetime) -> str:
    return (at.astimezone(UTC) if at.tzinfo else at).date().isoformat()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
