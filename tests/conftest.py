"""Shared fixtures: a real sandbox on 127.0.0.1, port 0, arrivals off, default plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from quoter.clock import ScaledClock
from quoter.sandbox.config import MarketConfig, SandboxConfig
from quoter.sandbox.server import RunningSandbox, run_sandbox

SANDBOX_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sandbox_config(**overrides: Any) -> SandboxConfig:
    """A test sandbox's configuration: ephemeral port, arrivals off; override any field."""
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "start": SANDBOX_START,
        "market": MarketConfig(enabled=False),
    }
    return SandboxConfig(**(fields | overrides))


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    config = sandbox_config()
    async with run_sandbox(config, clock=ScaledClock(start=config.start)) as running:
        yield running
