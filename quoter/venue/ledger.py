"""The daily quota ledger: how many requests this API key has sent on the current UTC day, kept on
disk (atomic replace + fsync) so a restart resumes the count instead of starting the day afresh.

The file holds one entry per API key, keyed by a SHA-256 digest of the key (never the key itself);
with the entry goes the bucket level at the last write, so a restart does not assume a full bucket.
A corrupt file is moved aside with a clear error in the log, and the day starts from zero: the
venue's own "Limit Exceeded" remains the backstop.

Several processes may spend one key's quota at once (the bot, and `quoter trades export` or
`quoter backtest record` beside it): each `record` adds its requests to the count on disk under
an exclusive lock, so none overwrites the others' spend, and learns theirs in return.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class LedgerCorrupt(Exception):
    """The ledger file exists but cannot be read as a ledger."""


@dataclass(frozen=True, slots=True)
class DayEntry:
    """Requests spent on `day` (UTC); `exhausted` once the venue said the quota is spent."""

    day: date
    spent: int
    exhausted: bool = False
    bucket_level: float | None = None
    bucket_at: datetime | None = None

    def rolled(self, today: date) -> DayEntry:
        """The entry for `today`: itself, or a fresh day (the bucket state carries over)."""
        if today == self.day:
            return self
        return DayEntry(today, 0, False, self.bucket_level, self.bucket_at)


def key_digest(api_key: str) -> str:
    """The name an API key goes by in the ledger: a digest, never the key."""
    return hashlib.sha256(b"quoter-ledger:" + api_key.encode()).hexdigest()[:32]


def _entry_to_json(entry: DayEntry) -> dict[str, object]:
    return {
        "day": entry.day.isoformat(),
        "spent": entry.spent,
        "exhausted": entry.exhausted,
        "bucket-level": entry.bucket_level,
        "bucket-at": None if entry.bucket_at is None else entry.bucket_at.isoformat(),
    }


def _entry_from_json(raw: object) -> DayEntry:
    if not isinstance(raw, dict):
        raise LedgerCorrupt("an entry is not an object")
    try:
        spent = raw["spent"]
        level = raw.get("bucket-level")
        at = raw.get("bucket-at")
        if not isinstance(spent, int) or spent < 0:
            raise LedgerCorrupt(f"spent is not a count: {spent!r}")
        if level is not None and not isinstance(level, int | float):
            raise LedgerCorrupt("bucket-level is not a number")
        return DayEntry(
            day=date.fromisoformat(raw["day"]),
            spent=spent,
            exhausted=bool(raw.get("exhausted", False)),
            bucket_level=None if level is None else float(level),
            bucket_at=None if at is None else datetime.fromisoformat(at),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LedgerCorrupt(f"bad entry: {error}") from None


def parse_ledger(text: str) -> dict[str, DayEntry]:
    """The entries of a ledger file's text; LedgerCorrupt if it is not one."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise LedgerCorrupt(f"not JSON: {error}") from None
    if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
        raise LedgerCorrupt("not a version-1 quota ledger")
    keys = raw.get("keys")
    if not isinstance(keys, dict):
        raise LedgerCorrupt("no keys object")
    return {str(k): _entry_from_json(v) for k, v in keys.items()}


def render_ledger(entries: dict[str, DayEntry]) -> str:
    body = {"version": FORMAT_VERSION, "keys": {k: _entry_to_json(v) for k, v in entries.items()}}
    return json.dumps(body, indent=1, sort_keys=True)


def merged(ours: DayEntry, on_disk: DayEntry | None, taken: int) -> DayEntry:
    """`ours` after `taken` more requests, given what the file holds now: the file's count grows
    only (other processes add to it), so its count for the day is the one to add to."""
    day = ours.day if on_disk is None else max(ours.day, on_disk.day)
    mine = ours.rolled(day)
    theirs = None if on_disk is None or on_disk.day != day else on_disk
    spent = mine.spent if theirs is None else max(mine.spent, theirs.spent)
    exhausted = mine.exhausted or (theirs is not None and theirs.exhausted)
    return replace(mine, spent=spent + taken, exhausted=exhausted)


class QuotaLedger:
    """One API key's entry in the ledger file: `load` once at start, `record` each change."""

    def __init__(self, path: Path, api_key: str) -> None:
        self._path = path
        self._key = key_digest(api_key)
        self._others: dict[str, DayEntry] = {}
        self.corrupt_found = False

    @property
    def path(self) -> Path:
        return self._path

    def load(self, today: date) -> DayEntry:
        """Today's entry as the file has it (a fresh one if the file or the key is new)."""
        mine = self._read_mine()
        return DayEntry(today, 0) if mine is None else mine.rolled(today)

    def _set_aside(self, why: str) -> None:
        aside = self._path.with_name(self._path.name + ".corrupt")
        os.replace(self._path, aside)
        self.corrupt_found = True
        log.error(
            "quota ledger %s is corrupt (%s); moved to %s, today's count restarts at 0",
            self._path,
            why,
            aside,
        )

    def record(self, entry: DayEntry, taken: int) -> DayEntry:
        """`entry` (our day, bucket and verdict) after `taken` more requests, merged with what
        other processes on this key wrote since, written under the file's lock; returns the
        entry as now on disk. OSError if it cannot be written."""
        with self._locked():
            on_disk = self._read_mine()
            entry = merged(entry, on_disk, taken)
            self.save(entry)
        return entry

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock = self._path.with_name(self._path.name + ".lock")
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def _read_mine(self) -> DayEntry | None:
        """Our entry as the file has it now (the other keys' are kept for the write)."""
        try:
            entries = parse_ledger(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except LedgerCorrupt as error:
            self._set_aside(str(error))
            return None
        mine = entries.pop(self._key, None)
        self._others = entries
        return mine

    def save(self, entry: DayEntry) -> None:
        """Write the ledger atomically: temp file, fsync, rename, fsync the directory."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        text = render_ledger({**self._others, self._key: entry})
        tmp = self._path.with_name(self._path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)
        directory = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
