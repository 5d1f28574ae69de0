"""One HTTP exchange with the venue, bounded in time and size, and the meaning of its status.

Every aiohttp failure becomes a VenueError here; nothing from aiohttp escapes this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from quoter.venue.errors import (
    MalformedResponse,
    VenueError,
    VenueUnavailable,
    venue_error,
)
from quoter.venue.errors import is_limit_exceeded as is_quota_message
from quoter.venue.parse import decode_json
from quoter.venue.stats import CONNECTION_ERROR, TIMEOUT, TOO_LARGE

MAX_MESSAGE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    retry_after: str | None = None  # the header as sent: a 429's says how long to send nothing


class ExchangeFailed(Exception):
    """Carries the translated error and the stats label of an exchange that got no status."""

    def __init__(self, error: VenueError, outcome: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.outcome = outcome


class Redactor:
    """Blanks out secrets in any text that came from outside before it goes into a message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:MAX_MESSAGE_CHARS]


async def _read_bounded(response: aiohttp.ClientResponse, max_bytes: int, what: str) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        too_large = f"the body of {declared} bytes exceeds {max_bytes}"
        raise ExchangeFailed(MalformedResponse(too_large, endpoint=what), TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            too_large = f"the body exceeds {max_bytes} bytes"
            raise ExchangeFailed(MalformedResponse(too_large, endpoint=what), TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    headers: Mapping[str, str],
    data: bytes | None,
    client_timeout: aiohttp.ClientTimeout,
    max_bytes: int,
    what: str,
) -> Answer:
    """Send one request and read its answer; ExchangeFailed on any transport failure."""
    assert client_timeout.total is not None
    try:
        # aiohttp's own timer is the first line; this one also bounds a body that trickles in.
        async with asyncio.timeout(client_timeout.total + 0.5):
            async with session.request(
                method,
                url,
                headers=dict(headers),
                data=data,
                timeout=client_timeout,
                allow_redirects=False,
            ) as response:
                body = await _read_bounded(response, max_bytes, what)
                return Answer(response.status, body, response.headers.get("Retry-After"))
    except TimeoutError:
        raise ExchangeFailed(VenueUnavailable(f"{what}: timed out"), TIMEOUT) from None
    except aiohttp.ClientError as error:
        kind = type(error).__name__
        raise ExchangeFailed(
            VenueUnavailable(f"{what}: connection failed ({kind})"), CONNECTION_ERROR
        ) from None


def _venue_message(body: bytes) -> tuple[str, str | None]:
    """The gateway's `message` or the API's `error.code`/`error.message`, if the body has them."""
    try:
        raw = decode_json(body)
    except MalformedResponse:
        return "", None
    if not isinstance(raw, dict):
        return "", None
    if isinstance(raw.get("error"), dict):
        inner = raw["error"]
        code = inner.get("code")
        message = inner.get("message")
        return (
            message if isinstance(message, str) else "",
            code if isinstance(code, str) else None,
        )
    message = raw.get("message")
    return (message if isinstance(message, str) else ""), None


def is_limit_exceeded(body: bytes) -> bool:
    message, _ = _venue_message(body)
    return is_quota_message(message)


def error_for(answer: Answer, what: str, redactor: Redactor) -> VenueError:
    """The error a non-2xx answer means (401 is handled by the caller: it re-authenticates)."""
    message, code = _venue_message(answer.body)
    # Redacted before the mapping builds its message: the text came from outside.
    clean_code = None if code is None else redactor.clean(code)
    return venue_error(answer.status, clean_code, redactor.clean(message), what)
