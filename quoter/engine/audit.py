"""The audit trail as the engine writes it: one JSON line per record, in a file per UTC day.

A record of intent is flushed and fsynced before the quote it announces goes out; when the
trail cannot be written the engine stops quoting (withdrawals still go out).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

import orjson


class AuditError(Exception):
    """The trail cannot be written; the message names the file."""


class Audit(Protocol):
    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        """Append a record; `durable` waits until it is on disk."""
        ...


class JsonlAudit:
    """Daily files `audit-YYYY-MM-DD.jsonl` under `directory`."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._day: str | None = None
        self._file: IO[bytes] | None = None

    def record(
        self, kind: str, at: datetime, data: Mapping[str, object], *, durable: bool = False
    ) -> None:
        line = orjson.dumps({"kind": kind, "at": at.isoformat(), **data}, default=str)
        try:
            handle = self._handle(at)
            handle.write(line + b"\n")
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        except OSError as error:
            raise AuditError(f"{self._directory}: cannot write the audit trail: {error}") from error

    def _handle(self, at: datetime) -> IO[bytes]:
        day = at.date().isoformat()
        if self._file is None or day != self._day:
            self.close()
            self._directory.mkdir(parents=True, exist_ok=True)
            self._file = (self._directory / f"audit-{day}.jsonl").open("ab")
            self._day = day
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
