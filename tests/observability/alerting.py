"""A real Alertmanager on loopback delivering to the alert inbox, for the end-to-end alert test.

The Alertmanager runs the repository's routes and inhibition rules, with its receivers pointed
at the inbox and its timings cut to GROUP_TIMING; the rules are the repository's, with
every `for` cut to TEST_FOR, so an alert's path (rule, Prometheus, Alertmanager, webhook) is
what the stack runs, in about a second rather than minutes."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from quoter.metrics.alert_inbox import AlertInbox, Delivery, serve_inbox
from tests.observability.live import serving
from tests.observability.promql import ROOT, RULES

ALERTMANAGER_CONFIG = ROOT / "config/alertmanager/alertmanager.yml"
# Two of the test Prometheus's evaluations (tests/observability/live.py: INTERVAL): an alert
# still passes through pending before it fires.
TEST_FOR = "500ms"
# The routes' group_wait and group_interval.
GROUP_TIMING = "250ms"
POLL_S = 0.02  # how often a wait for a delivery looks at the inbox


@dataclass
class Webhook:
    """The product's alert inbox (`quoter alert-inbox`) as the test's receiver."""

    inbox: AlertInbox
    url: str = ""

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.inbox.history)

    async def until(
        self, alertname: str, status: str, since_s: float, timeout_s: float = 20.0
    ) -> Delivery:
        """The first delivery of `alertname` in `status` received after `since_s` (bounded)."""
        give_up = time.monotonic() + timeout_s
        while True:
            for delivery in self.deliveries:
                if (
                    delivery.at_s >= since_s
                    and delivery.status == status
                    and (delivery.labels.get("alertname") == alertname)
                ):
                    return delivery
            if time.monotonic() >= give_up:
                seen = [(d.labels.get("alertname"), d.status) for d in self.deliveries]
                raise AssertionError(f"no {status} {alertname} delivered; got {seen}")
            await asyncio.sleep(POLL_S)


@asynccontextmanager
async def running_webhook() -> AsyncIterator[Webhook]:
    inbox = AlertInbox(out=io.StringIO())
    async with serve_inbox(inbox, "127.0.0.1", 0) as url:
        yield Webhook(inbox, url)


def alertmanager_config(webhook: str) -> dict[str, Any]:
    """The repository's Alertmanager config: receivers at `webhook`, timings of GROUP_TIMING. A
    group waits that long (not 0) so that an inhibiting alert that Prometheus sends in the
    same batch as its target is known before the target's group is flushed."""
    config: dict[str, Any] = yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8"))
    for route in [config["route"], *config["route"].get("routes", [])]:
        route.update(group_wait=GROUP_TIMING, group_interval=GROUP_TIMING, repeat_interval="1h")
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            hook["url"] = webhook + hook["url"].split(":8080", 1)[1]
    return config


def fast_rules(tmp_path: Path) -> Path:
    """The repository's rules with every `for` cut to TEST_FOR."""
    rules: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = TEST_FOR
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return path


class Alertmanager:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self._session = session

    async def alerts(self) -> list[dict[str, Any]]:
        async with self._session.get(f"{self.url}/api/v2/alerts") as answer:
            result: list[dict[str, Any]] = await answer.json()
        return result


@asynccontextmanager
async def running_alertmanager(
    binary: str, tmp_path: Path, webhook: str
) -> AsyncIterator[Alertmanager]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(alertmanager_config(webhook)), encoding="utf-8")
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'alertmanager'}",
        "--cluster.listen-address=",  # no gossip port: one instance, loopback only
    ]
    async with serving("alertmanager", args, tmp_path) as (url, session):
        yield Alertmanager(url, session)
