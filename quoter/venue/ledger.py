"""The daily quota ledger: how many requests this API key has sent on the current UTC day, kept on
disk (atomic replace + fsync) so a restart resumes the count instead of starting the day afresh.

The file holds one entry per API key, keyed by a SHA-256 digest of the key (never the key itself);
with the entry goes the bucket level at the last write, so a restart does not assume a full bucket.
A file that cannot be read as a ledger (not JSON, truncated, a negative or absurd count, a day in
the future, wrong types, unreadable) raises `LedgerDamaged`, and is left where it is for a person
to look at: the guard then treats the day's quota as spent (guard.py). It is created owner-only.

Several processes may spend one key's quota at once (the bot, and `quoter trades export` or
`quoter backtest record` beside it): each `record` adds its requests to the count on disk under
an exclusive lock, so none overwrites the others' spend, and learns theirs in return.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from quoter.basics.private_file import PRIVATE_MODE, write_private

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# No usage plan allows this many requests in a day: a bigger count is damage, not spend.
MAX_SPENT = 10_000_000
MAX_BUCKET_LEVEL = 1e9
# Another process on this box may roll the day a moment before we do.
MIDNIGHT_GRACE = timedelta(minutes=1)


class LedgerDamaged(Exception):
    """The ledger file exists but cannot be read as a ledger; the message names it and why."""


LedgerCorrupt = LedgerDamaged  # the name it had before damage meant fail-safe


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


def _count(raw: dict[str, object]) -> int:
    spent = raw["spent"]
    if isinstance(spent, bool) or not isinstance(spent, int) or not 0 <= spent <= MAX_SPENT:
        raise LedgerDamaged(f"spent is not a count of requests: {str(spent)[:40]!r}")
    return spent


def _level(raw: dict[str, object]) -> float | None:
    level = raw.get("bucket-level")
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise LedgerDamaged("bucket-level is not a number")
    if not (math.isfinite(level) and 0 <= level <= MAX_BUCKET_LEVEL):
        raise LedgerDamaged(f"bucket-level is out of range: {str(level)[:40]}")
    return float(level)


def _moment(raw: dict[str, object]) -> datetime | None:
    at = raw.get("bucket-at")
    if at is None:
        return None
    if not isinstance(at, str):
        raise LedgerDamaged("bucket-at is not a timestamp")
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise LedgerDamaged("bucket-at has no time zone")
    return moment


def _entry_from_json(raw: object) -> DayEntry:
    if not isinstance(raw, dict):
        raise LedgerDamaged("an entry is not an object")
    try:
        day, exhausted = raw["day"], raw.get("exhausted", False)
        if not isinstance(day, str):
            raise LedgerDamaged("day is not a date")
        if not isinstance(exhausted, bool):
            raise LedgerDamaged("exhausted is not true or false")
        return DayEntry(date.fromisoformat(day), _count(raw), exhausted, _level(raw), _moment(raw))
    except KeyError as error:
        raise LedgerDamaged(f"an entry has no {error}") from None
    except (TypeError, ValueError, OverflowError) as error:
        raise LedgerDamaged(f"bad entry: {str(error)[:80]}") from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def parse_ledger(text: str) -> dict[str, DayEntry]:
    """The entries of a ledger file's text; LedgerDamaged if it is not one."""
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise LedgerDamaged(f"not JSON (truncated or overwritten?): {str(error)[:80]}") from None
    if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
        raise LedgerDamaged("not a version-1 quota ledger")
    keys = raw.get("keys")
    if not isinstance(keys, dict):
        raise LedgerDamaged("no keys object")
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
    """One API key's entry in the ledger file: `load` once at start, `record` each change.
    Both raise LedgerDamaged for a file they cannot trust, `record` OSError for one it cannot
    write."""

    def __init__(self, path: Path, api_key: str) -> None:
        self._path = path
        self._key = key_digest(api_key)
        self._others: dict[str, DayEntry] = {}

    @property
    def path(self) -> Path:
        return self._path

    def load(self, today: date) -> DayEntry:
        """Today's entry as the file has it (a fresh one if the file or the key is new)."""
        mine = self._read_mine(latest=today)
        return DayEntry(today, 0) if mine is None else mine.rolled(today)

    def record(self, entry: DayEntry, taken: int, now: datetime | None = None) -> DayEntry:
        """`entry` (our day, bucket and verdict) after `taken` more requests, merged with what
        other processes on this key wrote since, written under the file's lock; returns the
        entry as now on disk. `now` (UTC) dates the newest day the file may hold."""
        latest = entry.day + timedelta(days=1) if now is None else (now + MIDNIGHT_GRACE).date()
        with self._locked():
            on_disk = self._read_mine(latest=max(latest, entry.day))
            entry = merged(entry, on_disk, taken)
            self.save(entry)
        return entry

    def start_afresh(self, entry: DayEntry) -> None:
        """A new UTC day begins with `entry`: a damaged file is set aside (its day is over), and
        `entry` written in its place. OSError if that fails."""
        with self._locked():
            try:
                self._read_mine(latest=entry.day)
            except LedgerDamaged as error:
                aside = self._path.with_name(self._path.name + ".damaged")
                os.replace(self._path, aside)
                self._others = {}
                log.warning(
                    "quota ledger %s set aside as %s at the new day: %s", self._path, aside, error
                )
            self.save(entry)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock = self._path.with_name(self._path.name + ".lock")
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def _read_mine(self, latest: date) -> DayEntry | None:
        """Our entry as the file has it now (the other keys' are kept for the write)."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise self._damaged("not text (binary garbage?)") from None
        except OSError as error:  # a directory in its place, no permission, an I/O error
            raise self._damaged(f"unreadable: {error.strerror or error}") from None
        try:
            entries = parse_ledger(text)
        except LedgerDamaged as error:
            raise self._damaged(str(error)) from None
        future = [e.day for e in entries.values() if e.day > latest]
        if future:
            raise self._damaged(f"dated {max(future)}, in the future (today is {latest})")
        mine = entries.pop(self._key, None)
        self._others = entries
        return mine

    def _damaged(self, why: str) -> LedgerDamaged:
        return LedgerDamaged(f"quota ledger {self._path}: {why}")

    def save(self, entry: DayEntry) -> None:
        """Write the ledger atomically, owner-only and durably."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        text = render_ledger({**self._others, self._key: entry})
        write_private(self._path, text)
