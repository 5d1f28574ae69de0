"""Secrets never reach the trail: values under secret-sounding keys, secret types, bearer
strings and any value the caller names are replaced before a record is sealed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum

REDACTED = "[redacted]"

_SECRET_WORDS = frozenset(
    {"secret", "token", "password", "passwd", "authorization", "credential", "credentials"}
)
_SECRET_JOINED = ("apikey", "clientsecret", "privatekey", "accesskey", "bearer", "cookie")
_BEARER = re.compile(r"\b(bearer|basic)\s+\S+", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """`api-key`, `X-Api-Key`, `client_secret`, `access-token`, `Authorization`, `password`..."""
    parts = [p for p in re.split(r"[-_.\s]+", key.lower()) if p]
    joined = "".join(parts)
    return any(p in _SECRET_WORDS for p in parts) or any(w in joined for w in _SECRET_JOINED)


class Scrubber:
    """Makes data JSON-native and secret-free: mappings with string keys, lists, scalars."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        # Short values would redact innocent text; a real secret is longer than this.
        self._values = tuple(v for v in secret_values if len(v) >= 6)

    def scrub(self, data: Mapping[str, object]) -> dict[str, object]:
        return {str(k): self._value(str(k), v) for k, v in data.items()}

    def _value(self, key: str, value: object) -> object:
        if is_secret_key(key) and value is not None:
            return REDACTED
        return self._clean(value)

    def _clean(self, value: object) -> object:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Enum):
            return self._clean(value.value)
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {str(k): self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        if is_dataclass(value) and not isinstance(value, type):
            return self._clean(asdict(value))
        if type(value).__name__ in {"SecretStr", "SecretBytes"}:
            return REDACTED
        return self._text(str(value))

    def _text(self, text: str) -> str:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        for secret in self._values:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text
