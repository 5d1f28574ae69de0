"""Serving `/metrics` from an aiohttp app on its own port, loopback unless configured otherwise.
The exposition is built on the event loop, where the state it reads is owned."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from quoter.listening import http_url, listening
from quoter.metrics.config import MetricsConfig

log = logging.getLogger(__name__)

REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY_KEY])
    response = web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
    response.enable_compression()  # gzip when Prometheus asks for it
    return response


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def build_app(registry: CollectorRegistry) -> web.Application:
    app = web.Application()
    app[REGISTRY_KEY] = registry
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _health)
    return app


@asynccontextmanager
async def serve_metrics(config: MetricsConfig, registry: CollectorRegistry) -> AsyncIterator[str]:
    """Serve until the block ends; yields the `/metrics` URL (with the bound port)."""
    async with listening(build_app(registry), config.host, config.port, "metrics") as bound:
        url = http_url(*bound, "/metrics")
        log.info("metrics on %s", url)
        yield url
