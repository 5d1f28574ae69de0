"""The usage-plan guard against a real sandbox on loopback, in real time (plan 10/s, burst 100,
quota 5000): a burst, sustained polling, and a restart mid-day on the same quota ledger.

Figures come from the sandbox's own counters (its request times and 429 counts), not the client's.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from quoter.clock import SystemClock
from quoter.sandbox.config import MarketConfig, SandboxConfig
from quoter.sandbox.server import run_sandbox
from quoter.venue.config import UsagePlanConfig, VenueConfig, VenueCredentials
from quoter.venue.http import HttpVenue

BURST = 150
POLLERS = 4
SUSTAINED_S = 6.0
RESTART_REQUESTS = 15


def _counters(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/_sandbox/counters", timeout=5) as answer:
        body: dict[str, Any] = json.loads(answer.read())
    return body


async def counters(base_url: str) -> dict[str, Any]:
    return await asyncio.to_thread(_counters, base_url)


def max_in_window(times: list[float], width_s: float = 1.0) -> int:
    """The most request times in any closed window [t, t + width] (t a request's own time)."""
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        j = max(j, i)
        while j + 1 < len(times) and times[j + 1] <= start + width_s:
            j += 1
        best = max(best, j - i + 1)
    return best


def _limits(seen: dict[str, Any]) -> int:
    return int(seen.get("rate-limited", 0))


async def burst(config: VenueConfig, creds: VenueCredentials, base_url: str) -> None:
    before = await counters(base_url)
    seen_before = len(before["request-times"])
    async with (
        HttpVenue.open(config, creds, SystemClock()) as venue,
        asyncio.TaskGroup() as group,
    ):
        for _ in range(BURST):
            group.create_task(venue.list_rfqs(limit=1))
    after = await counters(base_url)
    times = after["request-times"][seen_before:]
    first_second = sum(1 for t in times if t <= times[0] + 1.0)
    limited = _limits(after) - _limits(before)
    print(
        f"burst {BURST}: first-second {first_second}, max-in-1s {max_in_window(times)}, "
        f"429s {limited} (requests incl. authenticate: {len(times)})"
    )


async def sustained(config: VenueConfig, creds: VenueCredentials, base_url: str) -> None:
    before = await counters(base_url)
    seen_before = len(before["request-times"])
    async with HttpVenue.open(config, creds, SystemClock()) as venue:
        stop_at = time.monotonic() + SUSTAINED_S

        async def poller() -> int:
            sent = 0
            while time.monotonic() < stop_at:
                await venue.list_quotes(limit=1)
                sent += 1
            return sent

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(poller()) for _ in range(POLLERS)]
        waited = venue.stats.snapshot().guard_wait_s.get("POLL", 0.0)
    after = await counters(base_url)
    times = after["request-times"][seen_before:]
    sent = sum(t.result() for t in tasks)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    print(
        f"sustained {POLLERS} pollers {SUSTAINED_S:.0f}s: {sent} requests, max-in-1s "
        f"{max_in_window(times)}, mean {len(times) / max(span, 1e-9):.1f}/s, "
        f"429s {_limits(after) - _limits(before)}, guard wait {waited:.1f}s"
    )


async def restart(config: VenueConfig, creds: VenueCredentials, base_url: str) -> None:
    before = await counters(base_url)
    async with HttpVenue.open(config, creds, SystemClock()) as venue:
        start = venue.guard_state().spent_today
        for _ in range(RESTART_REQUESTS):
            await venue.list_rfqs(limit=1)
        at_close = venue.guard_state().spent_today
    async with HttpVenue.open(config, creds, SystemClock()) as venue:
        resumed = venue.guard_state().spent_today
        await venue.list_rfqs(limit=1)
        after_one = venue.guard_state().spent_today
    after = await counters(base_url)
    print(
        f"restart: spent {at_close - start} this run; ledger at close {at_close}, "
        f"after reopen {resumed} (then {after_one} after one more call); "
        f"sandbox counted {after['quota-spent']}, 429s {_limits(after) - _limits(before)}"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as tmp:
        sandbox_config = SandboxConfig(
            port=0,
            rate_per_s=10.0,
            burst=100,
            daily_quota=5000,
            credentials_file=Path(tmp) / "sandbox-credentials.env",
            market=MarketConfig(enabled=False),
        )
        async with run_sandbox(sandbox_config) as sandbox:
            config = VenueConfig(
                base_url=sandbox.base_url,
                usage_plan=UsagePlanConfig(ledger_path=Path(tmp) / "ledger.json"),
            )
            started = time.perf_counter()
            await burst(config, sandbox.credentials, sandbox.base_url)
            await sustained(config, sandbox.credentials, sandbox.base_url)
            await restart(config, sandbox.credentials, sandbox.base_url)
            print(f"total {time.perf_counter() - started:.1f}s")


def run() -> None:
    asyncio.run(main())
