"""A fake venue we own: a real aiohttp server on 127.0.0.1:0 answering from a script.

For what the sandbox cannot show (the other token spelling, echoed secrets, huge bodies) and
for unit tests of the HTTP client that need exact control of each answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from quoter.venue.config import VenueCredentials

CREDENTIALS = VenueCredentials.model_validate(
    {"client_id": "client-7", "client_secret": "s3cr3t-xyz", "api_key": "k3y-abc-123"}
)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    path: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


class FakeVenue:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.script: dict[str, deque[Reply]] = defaultdict(deque)
        self.token_field = "access_token"
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.base_url = ""

    def then(self, route: str, *replies: Reply) -> None:
        """Queue replies for `route` ("GET /rfqs", "POST /rfqs/r1/quotes", ...)."""
        self.script[route].extend(replies)

    def routes(self, route: str) -> list[Seen]:
        method, path = route.split(" ", 1)
        return [s for s in self.seen if s.method == method and s.path.endswith(path)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = re.sub(r"^/v2\.[012]", "", request.path)
        self.seen.append(Seen(request.method, path, request.raw_path, dict(request.headers), body))
        if request.headers.get("x-api-key") != CREDENTIALS.api_key.get_secret_value():
            return web.json_response({"message": "Forbidden"}, status=403)
        route = f"{request.method} {path}"
        if self.script[route]:
            return await self._reply(self.script[route].popleft())
        if route == "POST /authenticate":
            self.tokens_issued += 1
            token = f"tok-{self.tokens_issued}-secretish"
            self.valid_tokens.add(token)
            return web.json_response({self.token_field: token})
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return web.json_response({"message": "Unauthorized"}, status=401)
        return web.json_response({"items": [], "total": 0, "limit": 100, "skip": 0})

    async def _reply(self, reply: Reply) -> web.StreamResponse:
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        raw = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        return web.Response(
            body=raw, status=reply.status, content_type="application/json", headers=reply.headers
        )


@asynccontextmanager
async def fake_venue() -> AsyncIterator[FakeVenue]:
    fake = FakeVenue()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
