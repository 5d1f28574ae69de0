"""The audit trail as the engine writes it: hash-chained JSON lines in daily files
`audit-YYYY-MM-DD.jsonl`, the chain running on across files and across restarts.

A durable record (the intent to send a quote) is fsynced before `record` returns. On start the
chain resumes from the last whole record on disk; a torn last line (a crash mid-write) is moved
to `<file>.torn` and an `audit-torn-tail` record says so. The engine writes from its event loop
only: no locking here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import orjson

from quoter.audit.chain import FILE_GLOB, GENESIS, read_lines, seal
from quoter.audit.scrub import Scrubber

HEAD_FILE = "audit-head.json"
TORN_KIND = "audit-torn-tail"


class AuditError(Exception):
    """The trail cannot be written; the message names the file."""


class Audit(Protocol):
    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        """Append a record; `durable` waits until it is on disk."""
        ...


class JsonlAudit:
    """Daily files under `directory`; values equal to `secret_values` are redacted too."""

    def __init__(self, directory: Path, *, secret_values: Iterable[str] = ()) -> None:
        self._directory = directory
        self._scrubber = Scrubber(secret_values)
        self._day: str | None = None
        self._file: IO[bytes] | None = None
        self._synced_dir = False
        self._seq = 0
        self._head = GENESIS
        self._torn: dict[str, object] | None = None
        try:
            self._resume()
        except OSError as error:
            raise AuditError(f"{directory}: cannot read the audit trail: {error}") from error

    @property
    def head(self) -> tuple[int, str]:
        """The last record written: its seq and hash (0 and GENESIS before the first)."""
        return self._seq, self._head

    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        try:
            if self._torn is not None:
                torn, self._torn = self._torn, None
                self._append(TORN_KIND, at, torn, durable=True)
            self._append(kind, at, self._scrubber.scrub(data), durable=durable)
        except (OSError, TypeError, orjson.JSONEncodeError) as error:
            raise AuditError(f"{self._directory}: cannot write the audit trail: {error}") from error

    def _append(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool
    ) -> None:
        record, line = seal(self._seq + 1, at.isoformat(), kind, data, self._head)
        handle = self._handle(at)
        handle.write(line)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
            if not self._synced_dir:
                _fsync_dir(self._directory)  # the new day file's name is durable too
                self._synced_dir = True
        self._seq = self._seq + 1
        self._head = str(record["hash"])

    def _handle(self, at: datetime) -> IO[bytes]:
        # A file's day never goes back: a record stamped before the open day's (a clock that
        # stepped back) joins the open file, so the files in name order are the chain's order.
        day = _utc_day(at)
        if self._day is not None and day < self._day:
            day = self._day
        if self._file is None or day != self._day:
            self._close_file()
            self._directory.mkdir(parents=True, exist_ok=True)
            self._file = (self._directory / f"audit-{day}.jsonl").open("ab")
            self._day = day
            self._synced_dir = False
        return self._file

    def close(self) -> None:
        """Close the open file and write the head (seq and hash of the last record), which lets
        `verify` see whole records cut from the end of the trail."""
        self._close_file()
        if self._seq == 0:
            return
        head = {"seq": self._seq, "hash": self._head, "day": self._day}
        path = self._directory / HEAD_FILE
        temporary = path.with_suffix(".tmp")
        try:
            with temporary.open("wb") as out:
                out.write(orjson.dumps(head))
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(path)
        except OSError as error:
            raise AuditError(f"{path}: cannot write the audit head: {error}") from error

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- resuming -------------------------------------------------------------------------------

    def _resume(self) -> None:
        """Take up the chain at the last whole record, newest file first."""
        files = sorted(self._directory.glob(FILE_GLOB)) if self._directory.is_dir() else []
        if files:
            self._day = files[-1].name.removeprefix("audit-").removesuffix(".jsonl")
        for path in reversed(files):
            lines = read_lines(path.read_bytes())
            if lines and lines[-1].torn:
                self._set_aside(path, lines[-1].number)
            whole = [line.record for line in lines if line.record is not None]
            if whole:
                self._seq, self._head = int(whole[-1]["seq"]), str(whole[-1]["hash"])
                return

    def _set_aside(self, path: Path, line_number: int) -> None:
        """Move the torn tail to `<file>.torn` and cut the file back to its last whole line."""
        content = path.read_bytes()
        keep = content.rfind(b"\n") + 1
        tail = content[keep:]
        torn_path = path.with_name(path.name + ".torn")
        with torn_path.open("ab") as out:
            out.write(tail + b"\n")
            out.flush()
            os.fsync(out.fileno())
        with path.open("r+b") as out:
            out.truncate(keep)
            out.flush()
            os.fsync(out.fileno())
        if self._torn is None:
            self._torn = {
                "file": path.name,
                "line": line_number,
                "bytes": len(tail),
                "sha256": hashlib.sha256(tail).hexdigest(),
                "set-aside-to": torn_path.name,
            }


def _utc_day(at: datetime) -> str:
    return (at.astimezone(UTC) if at.tzinfo else at).date().isoformat()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
