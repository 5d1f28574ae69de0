"""Running the sandbox: an aiohttp server on its own port (loopback unless allowed otherwise),
and the market ticking in a task the server owns for as long as it runs."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from quoter.basics.listening import http_url, listening
from quoter.basics.loopback import is_loopback
from quoter.clock import ScaledClock
from quoter.sandbox import api, controls
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.core import SANDBOX, Sandbox, build_sandbox
from quoter.sandbox.credentials import CredentialSource, resolve_credentials
from quoter.sandbox.gateway import gateway
from quoter.sandbox.market import Market
from quoter.sandbox.reference import ReferencePrice, default_reference_price
from quoter.sandbox.store import Store
from quoter.venue.config import VenueCredentials

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    base_url: str
    credentials: VenueCredentials
    credential_source: CredentialSource
    clock: ScaledClock
    sandbox: Sandbox

    @property
    def state(self) -> Store:
        return self.sandbox.store

    @property
    def market(self) -> Market:
        return self.sandbox.market


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[gateway], client_max_size=sandbox.config.max_body_bytes)
    app[SANDBOX] = sandbox
    api.add_routes(app)
    controls.add_routes(app)
    return app


async def tick(sandbox: Sandbox) -> None:
    """Step the market every `tick_s` of sandbox time, so ends show without a request."""
    while True:
        sandbox.step()
        await sandbox.clock.sleep(sandbox.config.market.tick_s)


@asynccontextmanager
async def run_sandbox(
    config: SandboxConfig,
    *,
    clock: ScaledClock | None = None,
    reference_price: ReferencePrice | None = None,
) -> AsyncIterator[RunningSandbox]:
    if not config.allow_remote and not is_loopback(config.host):
        raise ValueError(f"refusing to bind non-loopback host {config.host!r}")
    clock = clock if clock is not None else ScaledClock(start=config.start, speed=config.speed)
    credentials, source = resolve_credentials(config, os.environ)
    sandbox = build_sandbox(config, clock, credentials, reference_price or default_reference_price)
    app = build_app(sandbox)
    async with listening(app, config.host, config.port, "sandbox") as (_, port):
        base_url = http_url(config.host, port)
        running = RunningSandbox(base_url, credentials, source, clock, sandbox)
        log.info("sandbox serving on %s", running.base_url)
        async with asyncio.TaskGroup() as group:
            ticker = group.create_task(tick(sandbox), name="sandbox-market")
            try:
                yield running
            finally:
                ticker.cancel()
