"""The chain's rules, pure: a record's canonical bytes, its hash, and how a line is read back.

A record is one JSON object: the engine's data fields at the top level beside `seq`, `at`,
`kind`, `prev` and `hash`. `hash` is the HMAC-SHA256, under the audit key, of the record's
canonical bytes without `hash` (orjson, sorted keys); `prev` is the previous record's `hash`,
GENESIS for the first. Trails written before the key (and writers given none) hold the plain
SHA-256 there instead: "legacy, unkeyed", which anyone can recompute after an edit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
RESERVED = frozenset({"seq", "at", "kind", "prev", "hash"})
FILE_GLOB = "audit-*.jsonl"

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical(record: Mapping[str, object]) -> bytes:
    return orjson.dumps(record, option=_OPTIONS)


def mac(body: bytes, key: bytes | None) -> str:
    """The seal of a record's canonical bytes: HMAC-SHA256 under `key`, plain SHA-256 without."""
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def digest(record: Mapping[str, object], key: bytes | None = None) -> str:
    """The seal of a record: over its canonical bytes, `hash` left out."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return mac(canonical(body), key)


def sealed_by(record: Mapping[str, object], key: bytes | None) -> str | None:
    """How a record's `hash` was made: "keyed" (HMAC under `key`), "legacy" (plain SHA-256),
    or None (neither: edited, or sealed under another key)."""
    body = canonical({k: v for k, v in record.items() if k != "hash"})
    found = record.get("hash")
    if key is not None and isinstance(found, str) and hmac.compare_digest(mac(body, key), found):
        return "keyed"
    return "legacy" if found == mac(body, None) else None


def seal(
    seq: int, at: str, kind: str, data: Mapping[str, object], prev: str, key: bytes | None = None
) -> tuple[dict[str, object], bytes]:
    """The record and its line (canonical bytes and a newline). A data key that would shadow a
    chain field is kept as `data-<key>`, so data can never forge the chain."""
    record: dict[str, object] = {(f"data-{k}" if k in RESERVED else k): v for k, v in data.items()}
    record.update(seq=seq, at=at, kind=kind, prev=prev)
    record["hash"] = mac(canonical(record), key)
    return record, canonical(record) + b"\n"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a day file as read back: its record, or why it is not one."""

    number: int
    record: dict[str, Any] | None
    problem: str | None = None
    torn: bool = False  # the file's last bytes, with no newline: a write cut short


def read_lines(content: bytes) -> list[Line]:
    lines: list[Line] = []
    parts = content.split(b"\n")
    for index, raw in enumerate(parts):
        last = index == len(parts) - 1
        if last and not raw:
            break  # the file ends with a newline, as a whole one does
        number = index + 1
        if last:
            lines.append(Line(number, None, f"torn line: {len(raw)} bytes, no newline", True))
            break
        lines.append(parse_line(number, raw))
    return lines


def parse_line(number: int, raw: bytes) -> Line:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return Line(number, None, f"not JSON: {error}")
    if not isinstance(record, dict):
        return Line(number, None, "not a JSON object")
    missing = sorted(f for f in ("seq", "at", "kind", "prev", "hash") if f not in record)
    if missing:
        return Line(number, None, f"missing {', '.join(missing)}")
    if (
        not isinstance(record["seq"], int)
        or isinstance(record["seq"], bool)
        or not isinstance(record["hash"], str)
        or not isinstance(record["prev"], str)
        or not isinstance(record["kind"], str)
        or not isinstance(record["at"], str)
    ):
        return Line(number, None, "seq, at, kind, prev or hash of the wrong type")
    return Line(number, record)
