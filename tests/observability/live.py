"""A real Prometheus server on loopback for the observability tests: a temporary config that
scrapes one target every INTERVAL and loads the repository's rules, storage in a temp folder."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.observability.promql import RULES

# The test config's scrape and evaluation interval: a quarter of a second, so that a test
# waits for a scrape or a rule's evaluation in tenths of a second, not seconds. Prometheus
# takes durations in milliseconds; the rules' windows (a minute and more) see more samples.
INTERVAL = "250ms"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prometheus_config(
    target: str, rules: Path = RULES, alertmanager: str | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "quoter", "static_configs": [{"targets": [target]}]}],
    }
    if alertmanager is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


class Prometheus:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self._session = session

    async def query(self, expr: str) -> list[dict[str, Any]]:
        async with self._session.get(f"{self.url}/api/v1/query", params={"query": expr}) as r:
            body = await r.json()
        assert body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def until(self, expr: str, what: str, timeout_s: float = 15.0) -> list[dict[str, Any]]:
        """Wait (bounded) until `expr` returns data."""
        give_up = time.monotonic() + timeout_s
        while not (result := await self.query(expr)):
            if time.monotonic() > give_up:
                raise AssertionError(f"Prometheus never had {what}: {expr}")
            await asyncio.sleep(0.05)
        return result


@asynccontextmanager
async def running_prometheus(
    binary: str,
    tmp_path: Path,
    target: str,
    rules: Path = RULES,
    alertmanager: str | None = None,
) -> AsyncIterator[Prometheus]:
    config = tmp_path / "prometheus.yml"
    document = prometheus_config(target, rules, alertmanager)
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    args = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}"]
    async with serving("prometheus", args, tmp_path) as (url, session):
        yield Prometheus(url, session)


@asynccontextmanager
async def serving(
    name: str, args: list[str], tmp_path: Path
) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """`args` (a Prometheus-style server: the binary and its flags) on a free loopback port,
    once it answers ready; killed and reaped on exit. Its log: `tmp_path / NAME.log`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / f"{name}.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *args,
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                await ready(session, url, process, name)
                yield url, session
        finally:
            if process.returncode is None:
                process.kill()
            await asyncio.wait_for(process.wait(), 10)


async def ready(
    session: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process, name: str
) -> None:
    give_up = time.monotonic() + 20.0
    while time.monotonic() < give_up:
        if process.returncode is not None:
            raise AssertionError(f"{name} exited with {process.returncode}")
        try:
            async with session.get(f"{url}/-/ready") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} not ready within 20 s")
