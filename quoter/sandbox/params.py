"""Query parameters of the list endpoints, checked as strictly as the venue would: unknown or
repeated parameters, bad enums, naive or malformed instants and out-of-range paging are 400."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from multidict import MultiMapping

from quoter.sandbox.errors import bad_parameter

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SKIP = 1_000_000

E = TypeVar("E", bound=StrEnum)
Query = MultiMapping[str]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    skip: int


def check_known(query: Query, allowed: Collection[str]) -> None:
    for name in set(query.keys()):
        if name not in allowed:
            raise bad_parameter(f"unknown query parameter {name!r}")
        if len(query.getall(name)) > 1:
            raise bad_parameter(f"query parameter {name!r} is repeated")


def _integer(name: str, raw: str, low: int, high: int) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise bad_parameter(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise bad_parameter(f"{name} must be from {low} to {high}, got {value}")
    return value


def paging(query: Query) -> Paging:
    limit = query.get("limit")
    skip = query.get("skip")
    return Paging(
        limit=DEFAULT_LIMIT if limit is None else _integer("limit", limit, 1, MAX_LIMIT),
        skip=0 if skip is None else _integer("skip", skip, 0, MAX_SKIP),
    )


def instant(name: str, raw: str) -> datetime:
    """An ISO 8601 instant with any offset; `Z` accepted. A naive time is refused."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_parameter(f"{name} is not an ISO 8601 instant: {raw!r}") from None
    if value.tzinfo is None:
        raise bad_parameter(f"{name} needs a UTC offset: {raw!r}")
    return value


def optional_instant(query: Query, name: str) -> datetime | None:
    raw = query.get(name)
    return None if raw is None else instant(name, raw)


def optional_enum(query: Query, name: str, kind: type[E]) -> E | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise bad_parameter(f"{name} must be one of {allowed}, got {raw!r}") from None


def optional_choice(query: Query, name: str, allowed: Collection[str]) -> str | None:
    raw = query.get(name)
    if raw is not None and raw not in allowed:
        raise bad_parameter(f"{name} {raw!r} is not known")
    return raw


def time_range(query: Query, name: str) -> tuple[datetime, datetime] | None:
    """`<ISO>_<ISO>`: from (inclusive) to (exclusive)."""
    raw = query.get(name)
    if raw is None:
        return None
    parts = raw.split("_")
    if len(parts) != 2:
        raise bad_parameter(f"{name} must be <ISO>_<ISO>, got {raw!r}")
    start, end = instant(name, parts[0]), instant(name, parts[1])
    if end < start:
        raise bad_parameter(f"{name} ends before it starts")
    return start, end
