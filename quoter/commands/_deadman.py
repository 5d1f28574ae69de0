"""`quoter run --config` starts the dead-man's switch beside the bot: a child process in a
session of its own (a Ctrl-C meant for the bot does not reach it, and it outlives a SIGKILL of
the bot), credentials inherited through the environment, never on its command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from quoter.clock import SystemClock
from quoter.config import QuoterConfig
from quoter.engine.heartbeat import Heartbeat

CLEAN_EXIT_WAIT_S = 2.0  # it reads the heartbeat every 0.1 s


def switch_on(config: QuoterConfig, source: Path | None) -> bool:
    """Whether a run of `source` starts the switch (and so writes the heartbeat): not the
    demo's (its venue dies with the process), nor with `[engine.deadman] enabled = false`."""
    return source is not None and config.engine.deadman.enabled


@asynccontextmanager
async def deadman_beside(
    config: QuoterConfig, source: Path | None
) -> AsyncIterator[Heartbeat | None]:
    """The bot's heartbeat, its switch watching it; None for the demo (its venue dies with
    the process) or with `[engine.deadman] enabled = false`."""
    deadman = config.engine.deadman
    if not switch_on(config, source):
        yield None
        return
    command = [sys.executable, "-m", "quoter.engine.deadman", "--config", str(source)]
    child = await asyncio.to_thread(
        subprocess.Popen,
        [*command, "--pid", str(os.getpid())],
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
        start_new_session=True,
    )
    heartbeat = Heartbeat(deadman.heartbeat_path, deadman.beat_s, SystemClock())
    yield heartbeat
    # Reached on a return only: the bot ended and wrote its stop (nothing live) or did not
    # (then the switch fires once we are gone, and is not waited for).
    if heartbeat.said_stopped:
        with suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(child.wait, CLEAN_EXIT_WAIT_S)
