"""One writer per state file: a bot holds an exclusive flock on a lock file beside each of its
state paths (the audit folder, the kill latch, ...) for as long as it runs, so a second bot
given any one of them is refused before it reads or writes anything. The OS lets go of a flock
when its process ends, however it ends (SIGKILL too): a lock file left behind by a dead bot is
free to take, and no stale file ever has to be removed by hand."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from quoter.basics.errors import ConfigError
from quoter.basics.private_file import PRIVATE_MODE

# Not ".lock": the quota ledger and the kill latch take short locks of their own by that name,
# and a bot that held one for its whole run would wait on itself at its first write.
LOCK_SUFFIX = ".run-lock"


class StateInUse(ConfigError):
    """A state path another running bot holds; the message names it and that bot."""


def lock_path(state: Path) -> Path:
    """The lock file of `state`, beside it, found through symlinks: one folder reached by two
    spellings has one lock."""
    real = state.resolve()
    if not real.name:  # the root folder: no name to put the lock beside, so inside it
        return real / LOCK_SUFFIX
    return real.with_name(real.name + LOCK_SUFFIX)


@contextmanager
def hold_states(states: Sequence[tuple[str, Path]], started: str) -> Iterator[None]:
    """Hold the lock of every `(what, path)` in `states` until the block ends; StateInUse,
    holding none, if another process holds any. `started` (when this run started, as a person
    reads it) is written into each lock file with our pid, for the refusal of the next one."""
    with ExitStack() as held:
        seen: set[Path] = set()
        for what, state in states:
            lock = lock_path(state)
            if lock not in seen:
                seen.add(lock)
                held.enter_context(_hold(lock, f"{what} {state}", started))
        yield


@contextmanager
def _hold(lock: Path, what: str, started: str) -> Iterator[None]:
    descriptor = _open(lock, what)
    try:
        _take(descriptor, what)
        _write_holder(descriptor, started)
        yield
    finally:
        os.close(descriptor)  # lets go of the lock


def _take(descriptor: int, what: str) -> None:
    """The lock now or never: a bot that waited for its twin to stop would start later by
    surprise, long after the person who started it has looked away."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StateInUse(
            f"not started: the {what} is in use by {_holder(descriptor)}; "
            "one bot per desk state: stop it, or give this run state of its own"
        ) from None


def _open(lock: Path, what: str) -> int:
    """The lock file, owner-only (one an older run left keeps its mode, so it is set again);
    a folder that cannot be made or written is said in one line, not a traceback."""
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_MODE)
    except OSError as error:
        raise _unusable(lock, what, error) from None
    try:
        os.fchmod(descriptor, PRIVATE_MODE)
    except OSError as error:  # not ours
        os.close(descriptor)
        raise _unusable(lock, what, error) from None
    return descriptor


def _unusable(lock: Path, what: str, error: OSError) -> ConfigError:
    return ConfigError(f"not started: cannot lock the {what}: {lock}: {error.strerror or error}")


def _write_holder(descriptor: int, started: str) -> None:
    """Our pid and start, in place: the file is the lock, so it is never replaced."""
    body = json.dumps({"pid": os.getpid(), "started": started}).encode("utf-8")
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, body, 0)


def _holder(descriptor: int) -> str:
    """The running bot, as its lock file names it (it may not have written it yet)."""
    try:
        body = json.loads(os.pread(descriptor, 4096, 0))
        pid, started = int(body["pid"]), str(body["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another running bot"
    return f"the bot running as pid {pid} (started {started})"
