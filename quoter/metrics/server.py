"""Serving `/metrics` from an aiohttp app on its own port, loopback unless configured otherwise.
The exposition is built on the event loop, where the state it reads is owned."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from quoter.config import ListenError
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
    runner = web.AppRunner(build_app(registry), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        try:
            await site.start()
        except OSError as error:
            raise ListenError(
                f"[metrics] cannot listen on {config.host}:{config.port}: "
                f"{error.strerror}; change [metrics] port or set enabled = false"
            ) from None
        host, port = runner.addresses[0][:2]
        url = f"http://[{host}]:{port}/metrics" if ":" in host else f"http://{host}:{port}/metrics"
        log.info("metrics on %s", url)
        yield url
    finally:
        await runner.cleanup()
