"""Factories for trails on disk: a few records a day over several days, sealed with a test key
(or, `key=None`, the legacy unkeyed chain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from quoter.audit import JsonlAudit

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = b"test-audit-key-0123456789abcdef"


def write_trail(
    directory: Path,
    days: int = 3,
    per_day: int = 4,
    *,
    close: bool = True,
    key: bytes | None = None,
    anchor: Path | None = None,
) -> JsonlAudit:
    audit = JsonlAudit(directory, key=key, anchor_path=anchor)
    for day in range(days):
        for n in range(per_day):
            at = DAY1 + timedelta(days=day, minutes=n)
            audit.record("rfq", at, {"rfq-id": f"r{day}-{n}", "n": n}, durable=n == 0)
    if close:
        audit.close()
    return audit


def day_file(directory: Path, day: int) -> Path:
    return directory / f"audit-{(DAY1 + timedelta(days=day)).date().isoformat()}.jsonl"


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))
