"""`quoter kill` when no bot answers: the kill is latched, then withdrawn at the venue by this
command itself (`quoter.engine.venue_kill`), so a hung or dead bot leaves nothing live for
the length of a quote's validity. Credentials from the environment, as the bot has them."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from quoter.basics.errors import ConfigError
from quoter.clock import SystemClock
from quoter.config import QuoterConfig
from quoter.engine.killswitch import Scope
from quoter.venue.config import CREDENTIAL_VARIABLES, load_credentials

ADMIN_TIMEOUT_S = 1.0  # a bot that does not answer a kill within this is hung or gone
SWEEP_TIMEOUT_S = 10.0


def start_loading_venue_client() -> None:
    """Import the venue client (aiohttp and all, ~0.6 s) in a thread while the bot is asked:
    if it does not answer, the withdrawal starts that much sooner."""
    thread = threading.Thread(
        target=importlib.import_module, args=("quoter.engine.venue_kill",), daemon=True
    )
    thread.start()


def with_short_admin_wait(config: QuoterConfig) -> QuoterConfig:
    """The configuration with the admin client's wait cut to ADMIN_TIMEOUT_S: a kill must not
    wait five seconds on a bot that is not there."""
    wait_s = min(config.admin.timeout_s, ADMIN_TIMEOUT_S)
    admin = config.admin.model_copy(update={"timeout_s": wait_s})
    return config.model_copy(update={"admin": admin})


class Repeats(logging.Filter):
    """Lets each log line through once: a venue that cannot be reached is said once, not at
    every retry of the sweep's ten seconds."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, int, str]] = set()
        self.hidden = 0
        # Each handler asks about the same record in turn: the answer is the record's.
        self._last: tuple[logging.LogRecord, bool] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._last is not None and self._last[0] is record:
            return self._last[1]
        key = (record.name, record.levelno, record.getMessage())
        shown = key not in self._seen
        if shown:
            self._seen.add(key)
        else:
            self.hidden += 1
        self._last = (record, shown)
        return shown


@contextmanager
def each_line_once() -> Iterator[Repeats]:
    """Every log handler shows each distinct line once until the block ends."""
    repeats = Repeats()
    # No handler configured: Python's last resort prints them (the kill's case).
    handlers: list[logging.Handler | None] = [*logging.getLogger().handlers] or [logging.lastResort]
    for handler in handlers:
        if handler is not None:
            handler.addFilter(repeats)
    try:
        yield repeats
    finally:
        for handler in handlers:
            if handler is not None:
                handler.removeFilter(repeats)


def withdraw_without_bot(config: QuoterConfig, scope: Scope) -> int:
    """Withdraw at the venue what the (already latched) kill covers: 0 once the venue lists
    none of it live, 1 if it still may (no credentials, the venue unreachable, time up)."""
    try:
        credentials = load_credentials()
    except ConfigError:
        names = ", ".join(CREDENTIAL_VARIABLES.values())
        print(
            f"quoter kill: no venue credentials in the environment ({names}): nothing was "
            "withdrawn at the venue; live quotes stay until their valid-until, or until a bot "
            "takes the latched kill in",
            file=sys.stderr,
        )
        return 1
    from quoter.engine.venue_kill import withdraw_at_venue  # the venue client: only now

    print(f"quoter kill: withdrawing at the venue ({config.venue.base_url})", file=sys.stderr)
    clock = SystemClock()
    started_s = clock.monotonic()
    with each_line_once() as repeats:
        done = asyncio.run(
            withdraw_at_venue(
                config.venue, credentials, clock, scope=scope, timeout_s=SWEEP_TIMEOUT_S
            )
        )
    if repeats.hidden:
        print(
            f"quoter kill: ({repeats.hidden} repeats of the lines above not shown)", file=sys.stderr
        )
    for note in done.notes:
        print(f"quoter kill: {note}", file=sys.stderr)
    took_s = clock.monotonic() - started_s
    print(f"at the venue: {done.describe()} ({took_s:.1f} s)")
    return 0 if done.result.complete else 1
