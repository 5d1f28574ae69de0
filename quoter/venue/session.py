"""One attempt at a venue call: a token (shared, renewed before expiry, re-fetched once on a 401),
the request through the usage-plan guard, and the answer's status turned into an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp
from yarl import URL

from quoter.basics.usage import Lane
from quoter.clock import Clock
from quoter.venue.auth import AccessToken, auth_body, parse_token
from quoter.venue.config import VenueConfig, VenueCredentials
from quoter.venue.encode import JSON_CONTENT_TYPE, QueryValue, json_bytes, query_string
from quoter.venue.errors import AuthenticationFailed, MalformedResponse
from quoter.venue.guard import UsageGuard
from quoter.venue.parse import decode_json
from quoter.venue.retry import retry_after_s
from quoter.venue.stats import VenueStats
from quoter.venue.transport import (
    Answer,
    ExchangeFailed,
    Redactor,
    error_for,
    exchange,
    is_limit_exceeded,
)

log = logging.getLogger(__name__)


class VenueSession:
    """Sends single requests for `HttpVenue`; retrying is the caller's business."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: VenueConfig,
        credentials: VenueCredentials,
        clock: Clock,
        guard: UsageGuard,
        stats: VenueStats,
    ) -> None:
        self._session = session
        self._config = config
        self._credentials = credentials
        self._clock = clock
        self._guard = guard
        self._stats = stats
        self._root = config.base_url.rstrip("/") + config.api_prefix
        self._timeout = aiohttp.ClientTimeout(
            total=config.request_timeout_s, connect=config.connect_timeout_s
        )
        self._redactor = Redactor(
            s.get_secret_value()
            for s in (credentials.api_key, credentials.client_secret, credentials.client_id)
        )
        self._access: AccessToken | None = None
        self._reauth_due = False
        self._expiry_said = False  # a run of answers with a past expires-at: warned of once
        self._auth_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"VenueSession({self._root!r})"

    def json(self, answer: Answer, endpoint: str) -> object:
        try:
            return decode_json(answer.body)
        except MalformedResponse as error:
            self._stats.malformed_responses[endpoint] += 1
            raise error.at(endpoint) from None

    async def call(
        self,
        lane: Lane,
        endpoint: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: bytes | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Answer:
        token = await self._token(lane)
        answer = await self._send(lane, endpoint, method, path, query, body, token)
        if answer.status == 401:
            self._invalidate(token)
            token = await self._token(lane)
            answer = await self._send(lane, endpoint, method, path, query, body, token)
            if answer.status == 401:
                raise AuthenticationFailed(f"{endpoint}: 401 after re-authentication", status=401)
        if answer.status not in ok:
            raise error_for(answer, endpoint, self._redactor)
        return answer

    async def _token(self, lane: Lane) -> AccessToken:
        async with self._auth_lock:
            access = self._access
            margin_s = self._config.token_renew_margin_s
            if access is not None and not access.needs_renewal(self._clock.now(), margin_s):
                return access
            if self._reauth_due:
                self._stats.reauths += 1
            elif access is not None:
                self._stats.token_renewals += 1
            self._access = await self._authenticate(lane)
            self._reauth_due = False
            return self._access

    def _invalidate(self, used: AccessToken) -> None:
        """A 401 on `used`: drop it, unless a concurrent caller already replaced it."""
        if self._access is used:
            self._access = None
            self._reauth_due = True
            log.warning("venue refused our token; re-authenticating")

    async def _authenticate(self, lane: Lane) -> AccessToken:
        credentials = self._credentials
        body = json_bytes(
            auth_body(
                credentials.client_id.get_secret_value(),
                credentials.client_secret.get_secret_value(),
            )
        )
        answer = await self._send(lane, "authenticate", "POST", "/authenticate", None, body, None)
        self._stats.authentications += 1
        if answer.status in (401, 403):
            raise AuthenticationFailed(f"authenticate: {answer.status}", status=answer.status)
        if answer.status != 200:
            raise error_for(answer, "authenticate", self._redactor)
        token = parse_token(self.json(answer, "authenticate"), self._clock.now())
        self._redactor.add(token.value)
        self._note_expiry(token)
        log.info("authenticated; token valid until %s", token.expires_at.isoformat())
        return token

    def _note_expiry(self, token: AccessToken) -> None:
        """A past expires-at is a bad answer: counted each time, warned of once in a run."""
        if token.expiry_refused is None:
            self._expiry_said = False
            return
        self._stats.token_expiry_refused += 1
        if not self._expiry_said:
            self._expiry_said = True
            log.warning(
                "%s: the token is used until %s (the venue's rule: midnight Berlin), or "
                "until the venue refuses it (401)",
                token.expiry_refused,
                token.expires_at.isoformat(),
            )

    async def _send(
        self,
        lane: Lane,
        endpoint: str,
        method: str,
        path: str,
        query: Mapping[str, QueryValue] | None,
        body: bytes | None,
        token: AccessToken | None,
    ) -> Answer:
        """One request through the guard; 429s tell the guard what the venue thinks."""
        headers = {
            "x-api-key": self._credentials.api_key.get_secret_value(),
            "Accept": "application/json",
        }
        if token is not None:
            headers["Authorization"] = token.header()
        if body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        qs = query_string(query or {})
        url = URL(self._root + path + (f"?{qs}" if qs else ""), encoded=True)
        await self._guard.acquire(lane)
        started = self._clock.monotonic()
        try:
            answer = await exchange(
                self._session,
                method,
                url,
                headers=headers,
                data=body,
                client_timeout=self._timeout,
                max_bytes=self._config.max_response_bytes,
                what=endpoint,
            )
        except ExchangeFailed as failed:
            elapsed = self._clock.monotonic() - started
            self._stats.count_request(lane.name, endpoint, failed.outcome, seconds=elapsed)
            log.warning("%s %s: %s", method, endpoint, failed.error)
            raise failed.error from None
        elapsed = self._clock.monotonic() - started
        self._stats.count_request(lane.name, endpoint, answer.status, seconds=elapsed)
        log.debug("%s %s -> %d", method, endpoint, answer.status)
        if answer.status == 429:
            self._note_429(answer, endpoint)
        return answer

    def _note_429(self, answer: Answer, endpoint: str) -> None:
        if is_limit_exceeded(answer.body):
            self._stats.quota_exceeded += 1
            self._guard.venue_day_spent()
            return
        self._stats.rate_limited += 1
        asked = retry_after_s(answer.retry_after, self._clock.now(), self._config.max_retry_after_s)
        if asked.problem is not None:
            self._stats.retry_after_unusable += 1
            log.warning(
                "%s: 429 %s: holding %g s",
                endpoint,
                self._redactor.clean(asked.problem),
                asked.hold_s,
            )
        log.warning(
            "venue says Too Many Requests; emptying our bucket%s",
            f", nothing sent for {asked.hold_s:g} s (Retry-After)" if asked.hold_s else "",
        )
        self._guard.venue_bucket_empty(asked.hold_s)
