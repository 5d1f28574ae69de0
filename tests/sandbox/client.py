"""A small client for the sandbox tests: real HTTP over 127.0.0.1, bodies parsed as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from quoter.sandbox.server import RunningSandbox


@dataclass
class Reply:
    status: int
    body: Any
    raw: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Venue:
    running: RunningSandbox
    session: aiohttp.ClientSession
    prefix: str = "/v2.2"
    token: str | None = None
    _quote_seq: list[int] = field(default_factory=lambda: [0])

    @property
    def api_key(self) -> str:
        return self.running.credentials.api_key.get_secret_value()

    def credentials_body(self, spelling: str = "_") -> dict[str, str]:
        creds = self.running.credentials
        return {
            "grant_type": "client_credentials",
            f"client{spelling}id": creds.client_id.get_secret_value(),
            f"client{spelling}secret": creds.client_secret.get_secret_value(),
        }

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        body = orjson.dumps(json) if json is not None else data
        sent = {"content-type": "application/json"} | dict(headers or {})
        async with self.session.request(
            method, path, data=body, params=params, headers=sent
        ) as response:
            raw = await response.read()
            try:
                parsed = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                parsed = None
            return Reply(response.status, parsed, raw, dict(response.headers))

    async def authenticate(self) -> str:
        reply = await self.send(
            "POST",
            f"{self.prefix}/authenticate",
            json=self.credentials_body(),
            headers={"x-api-key": self.api_key},
        )
        assert reply.status == 200, reply.body
        token: str = reply.body["access-token"]
        self.token = token
        return token

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        prefix: str | None = None,
    ) -> Reply:
        """A public request with the key and a token (fetched once)."""
        if self.token is None:
            await self.authenticate()
        headers = {"x-api-key": self.api_key, "Authorization": f"Bearer {self.token}"}
        full = (self.prefix if prefix is None else prefix) + path
        return await self.send(method, full, json=json, params=params, headers=headers)

    async def control(self, method: str, path: str, json: object = None) -> Reply:
        return await self.send(method, "/_sandbox" + path, json=json)

    async def advance(self, seconds: float) -> str:
        reply = await self.control("POST", "/clock", {"advance-s": seconds})
        assert reply.status == 200, reply.body
        now: str = reply.body["now"]
        return now

    async def make_rfq(self, **overrides: object) -> dict[str, Any]:
        reply = await self.control("POST", "/rfqs", overrides)
        assert reply.status == 201, reply.body
        rfq: dict[str, Any] = reply.body
        return rfq

    async def counters(self) -> dict[str, Any]:
        reply = await self.control("GET", "/counters")
        counters: dict[str, Any] = reply.body
        return counters

    async def quote(self, rfq: Mapping[str, Any], **body: object) -> Reply:
        """Quote `rfq` with a valid default body (one- or two-way), overridden by `body`."""
        self._quote_seq[0] += 1
        default: dict[str, object] = {
            "client-quote-id": f"cq-{self._quote_seq[0]}",
            "valid-until": rfq["quote-deadline"],
        }
        if rfq["quote-type"] == "two-way":
            default |= {"bid": price(80.0), "ask": price(81.0)}
        else:
            default["price"] = price(80.0)
        return await self.call("POST", f"/rfqs/{rfq['id']}/quotes", json=default | body)


def price(value: object, currency: str = "EUR") -> dict[str, object]:
    return {"value": value, "currency": currency}
