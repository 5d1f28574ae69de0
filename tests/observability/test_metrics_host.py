"""`/metrics` answers only a Host that names its port: a web page's DNS rebinding gets 403."""

from __future__ import annotations

import aiohttp
from prometheus_client import CollectorRegistry

from quoter.metrics.config import MetricsConfig
from quoter.metrics.server import serve_metrics


async def _status(url: str, host: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, headers={"Host": host}) as r:
        return r.status


async def test_a_foreign_host_is_refused_and_the_allowed_names_are_served() -> None:
    config = MetricsConfig(port=0, allowed_hosts=("quoter",))
    async with serve_metrics(config, CollectorRegistry()) as url:
        port = url.split(":")[2].split("/")[0]
        assert await _status(url, f"evil.example:{port}") == 403
        assert await _status(url, "quoter:1") == 403  # another port: not ours
        assert await _status(url.replace("/metrics", "/healthz"), f"evil.example:{port}") == 403
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"quoter:{port}", f"QUOTER:{port}"):
            assert await _status(url, host) == 200
