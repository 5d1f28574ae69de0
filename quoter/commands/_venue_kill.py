"""`quoter kill` when no bot answers: the kill is latched, then withdrawn at the venue by this
command itself (`quoter.engine.venue_kill`), so a hung or dead bot leaves nothing live for
the length of a quote's validity. Credentials from the environment, as the bot has them."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading

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
    done = asyncio.run(
        withdraw_at_venue(config.venue, credentials, clock, scope=scope, timeout_s=SWEEP_TIMEOUT_S)
    )
    for note in done.notes:
        print(f"quoter kill: {note}", file=sys.stderr)
    took_s = clock.monotonic() - started_s
    print(f"at the venue: {done.describe()} ({took_s:.1f} s)")
    return 0 if done.result.complete else 1
