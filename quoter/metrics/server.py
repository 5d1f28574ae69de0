"""Serving `/metrics` from an aiohttp app on its own port, loopback unless configured otherwise.
The exposition is built on the event loop, where the state it reads is owned. A request whose
Host is not a name of the bound port (loopback, the configured host, `[metrics] allowed_hosts`)
is refused 403: positions per delivery month are not for a web page's DNS rebinding."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from quoter.basics.listening import host_names, http_url, listening
from quoter.metrics.config import MetricsConfig

log = logging.getLogger(__name__)

REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
HOSTS_KEY = web.AppKey("hosts", set[str])  # filled once the port is bound
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.headers.get("Host", "").lower() not in request.app[HOSTS_KEY]:
        return web.Response(status=403, text="Host not allowed\n")
    return await handler(request)


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    response = web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
    response.enable_compression()  # gzip when Prometheus asks for it
    return response


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def build_app(registry: CollectorRegistry) -> web.Application:
    app = web.Application(middlewares=[_host_check])
    app[REGISTRY_KEY] = registry
    app[HOSTS_KEY] = set()
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _health)
    return app


@asynccontextmanager
async def serve_metrics(config: MetricsConfig, registry: CollectorRegistry) -> AsyncIterator[str]:
    """Serve until the block ends; yields the `/metrics` URL (with the bound port)."""
    app = build_app(registry)
    async with listening(app, config.host, config.port, "metrics") as bound:
        app[HOSTS_KEY].update(host_names(config.host, bound[1], config.allowed_hosts))
        url = http_url(*bound, "/metrics")
        log.info("metrics on %s", url)
        yield url
