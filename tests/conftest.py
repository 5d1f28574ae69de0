"""Shared fixtures: a real sandbox on 127.0.0.1, port 0, arrivals off, default plan; and the
guard that fails a session which changed the checkout (tests write only under tmp_path)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quoter.clock import ScaledClock
from quoter.sandbox.config import MarketConfig, SandboxConfig
from quoter.sandbox.server import RunningSandbox, run_sandbox
from tests.virtual_time import virtual_time_loop

SANDBOX_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# With PYTHONDONTWRITEBYTECODE set (as in this project's images) pytest keeps no rewritten
# test module: every session, and every xdist worker, parsed, rewrote and compiled the ~200
# test modules (and the hypothesis package, which pytest rewrites as a plugin's) anew: 4 s of
# each collection here. So this process writes bytecode, all of it under the checkout's
# .pytest_cache/pycache, which git and the guard below ignore; nothing next to any source, in
# the venv or elsewhere. Each file is checked against its source's mtime and size, as always.
# Subprocesses keep the environment's setting.
sys.pycache_prefix = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "pycache")
sys.dont_write_bytecode = False


def sandbox_config(**overrides: Any) -> SandboxConfig:
    """A test sandbox's configuration: ephemeral port, arrivals off; override any field."""
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "start": SANDBOX_START,
        "market": MarketConfig(enabled=False),
    }
    return SandboxConfig(**(fields | overrides))


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The real loop for every async test; `@pytest.mark.asyncio(loop_factories=
    ["virtual-time"])` runs one on virtual time from SANDBOX_START instead."""
    marker = item.get_closest_marker("asyncio")
    if marker is not None and "virtual-time" in marker.kwargs.get("loop_factories", ()):
        return {"virtual-time": lambda: virtual_time_loop(SANDBOX_START)}
    return {"real": asyncio.new_event_loop}


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    config = sandbox_config()
    async with run_sandbox(config, clock=ScaledClock(start=config.start)) as running:
        yield running


# What running the tools leaves in any checkout, ignored by git and by this guard.
TOOL_LEFTOVERS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis")
_BEFORE = pytest.StashKey[frozenset[str] | None]()


def tree_state(root: Path) -> frozenset[str] | None:
    """The checkout's changed, untracked and ignored paths (`var/` is ignored: a test that
    writes there must show), tool caches left out; None when `root` is not a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--ignored", "--untracked=all"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    lines = (line for line in done.stdout.splitlines() if line)
    return frozenset(
        line for line in lines if not any(part in TOOL_LEFTOVERS for part in line[3:].split("/"))
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[_BEFORE] = tree_state(session.config.rootpath)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.stash.get(_BEFORE, None)
    after = tree_state(session.config.rootpath) if before is not None else None
    if before is None or after is None or after == before:
        return
    changed = sorted(after - before) + [f"gone: {line}" for line in sorted(before - after)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "the tests changed the checkout (write only under tmp_path):\n  " + "\n  ".join(
        changed
    )
    if reporter is not None:
        reporter.write_line(message, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
