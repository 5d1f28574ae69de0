"""Reading request JSON field by field, strictly: objects with known keys only, numbers that are
finite and not booleans, instants with an offset. Each failure names the field's path."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from datetime import datetime

import orjson


class FieldError(ValueError):
    """A request body that does not have the shape asked for."""


def parse_body(raw: bytes) -> object:
    """The JSON value in `raw`; empty or malformed bodies are FieldErrors."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise FieldError(f"the body is not valid JSON: {error}") from None


def obj(value: object, where: str, allowed: Collection[str]) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise FieldError(f"{where} must be a JSON object")
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise FieldError(f"{where} has unknown keys: {', '.join(unknown)}")
    return value


def text(value: object, where: str, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise FieldError(f"{where} must be a non-empty string of at most {max_len} characters")
    return value


def number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{where} must be a number")
    result = float(value)
    if not math.isfinite(result):
        raise FieldError(f"{where} must be finite")
    return result


def integer(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FieldError(f"{where} must be an integer from {low} to {high}")
    return value


def instant(value: object, where: str) -> datetime:
    raw = text(value, where, 64)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"{where} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise FieldError(f"{where} needs a UTC offset")
    return moment


def choice(value: object, where: str, allowed: Collection[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(f"{where} must be one of {', '.join(sorted(allowed))}")
    return value
