"""A `quoter sandbox` process and a `quoter run --config` bot quoting it, with a number of its
quotes live: for the tests and the benchmark of kills that need no bot (a hung bot and
`quoter kill`; a dead one and the dead-man's switch). Every wait bounded, every process reaped,
the dead-man's switch (a grandchild once the bot is gone) included."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import quoter
from tests.engine.processes import (
    QUOTER,
    SandboxProcess,
    reap,
    sandbox_process,
    spawn,
    tail,
    wait_exit,
    wait_for,
)
from tests.engine.test_crash import BOT_TOML, CREDENTIALS, _post, _toml_string

ADMIN_TOKEN = "kill-test-admin-token-0123456789"
SUPERVISOR = re.compile(r"dead-man's switch: pid (\d+) watching bot pid (\d+)")
QUOTE_TIMEOUT_S = 20.0

SANDBOX_TOML = """\
[sandbox]
use_env_credentials = true
daily_quota = 1000000
speed = 1.0

[sandbox.market]
enabled = false
"""


@dataclass(frozen=True, slots=True)
class Desk:
    """Where one bot keeps its files, and how to reach it."""

    root: Path
    env: dict[str, str]

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def config(self) -> Path:
        return self.root / "bot.toml"

    @property
    def log(self) -> Path:
        return self.root / "bot.log"

    def kills(self) -> list[dict[str, Any]]:
        latch = self.var / "kill-latch.json"
        if not latch.exists():
            return []
        kills: list[dict[str, Any]] = json.loads(latch.read_text(encoding="utf-8"))["kills"]
        return kills


def desk(root: Path) -> Desk:
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **CREDENTIALS, "QUOTER_ADMIN_TOKEN": ADMIN_TOKEN}
    return Desk(root, env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_bot_config(d: Desk, base_url: str, *, deadman: bool, max_quotes: int = 40) -> None:
    """The crash test's bot, roomier, its admin interface on a port of its own and the
    dead-man's switch on or off."""
    text = BOT_TOML.format(
        base_url=_toml_string(base_url),
        ledger=_toml_string(d.var / "quota-ledger.json"),
        audit=_toml_string(d.var / "audit"),
        latch=_toml_string(d.var / "kill-latch.json"),
        trades=_toml_string(d.var / "trades.parquet"),
    )
    text = text.replace("max_open_quotes = 40", f"max_open_quotes = {max_quotes}")
    text = text.replace("max_quotes_per_minute = 60", f"max_quotes_per_minute = {max_quotes * 3}")
    text += "\n[metrics]\nport = 0\n"
    text += f"\n[admin]\nport = {free_port()}\ntoken_file = {_toml_string(d.var / 'no-token')}\n"
    text += (
        f"\n[engine.deadman]\nenabled = {str(deadman).lower()}\ntimeout_s = 3.0\n"
        f"heartbeat_path = {_toml_string(d.var / 'heartbeat.json')}\n"
    )
    d.config.write_text(text, encoding="utf-8")


@contextmanager
def sandbox(root: Path, env: dict[str, str]) -> Iterator[SandboxProcess]:
    config = root / "sandbox.toml"
    config.write_text(SANDBOX_TOML, encoding="utf-8")
    with sandbox_process(config, root / "sandbox.log", env) as running:
        yield running


def live_quotes(venue: SandboxProcess) -> int:
    return int(venue.counters()["live-quotes"])


def post_rfq(venue: SandboxProcess) -> None:
    """A new RFQ on the sandbox, of its market's making."""
    _post(venue.base_url + "/_sandbox/rfqs", {})


@contextmanager
def quoting_bot(venue: SandboxProcess, d: Desk, quotes: int) -> Iterator[subprocess.Popen[bytes]]:
    """`quoter run --config` with `quotes` of its quotes live at the venue; reaped on exit."""
    before = live_quotes(venue)
    bot = spawn(["run", "--config", str(d.config)], d.log, d.env)
    try:
        wait_for(lambda: (d.var / "audit").exists(), QUOTE_TIMEOUT_S, "the bot's start", d.log)
        for _ in range(quotes):
            post_rfq(venue)

        def all_live() -> bool:
            if bot.poll() is not None:
                raise AssertionError(f"the bot exited with {bot.returncode}\n{tail(d.log)}")
            return live_quotes(venue) >= before + quotes

        wait_for(all_live, QUOTE_TIMEOUT_S, f"{quotes} live quotes", d.log)
        yield bot
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGCONT)  # a stopped process dies of SIGKILL all the same
        reap(bot)


def kill_command(d: Desk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(QUOTER), "kill", "--config", str(d.config), *args],
        env=d.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def supervisor_pid(d: Desk, timeout_s: float = 10.0) -> int:
    """The dead-man's switch's pid, as it said when it started watching."""
    found: list[int] = []

    def said() -> bool:
        match = SUPERVISOR.search(d.log.read_text(encoding="utf-8", errors="replace"))
        if match:
            found.append(int(match.group(1)))
        return bool(match)

    wait_for(said, timeout_s, "the dead-man's switch to start", d.log)
    return found[0]


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def reap_pid(pid: int, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for `pid` (not our child) to end; SIGKILL it if it does not.
    Whether it ended by itself."""
    deadline = time.monotonic() + timeout_s
    while pid_running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return False
        time.sleep(0.05)
    return True


def this_checkout(d: Desk) -> Desk:
    """The desk's environment with this checkout's `quoter` first on the path, not whichever
    the virtualenv's script was installed from."""
    root = str(Path(quoter.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, d.env.get("PYTHONPATH")) if p)
    return Desk(d.root, {**d.env, "PYTHONPATH": path})


START_TIMEOUT_S = 20.0


def start_output(d: Desk) -> tuple[list[str], str]:
    """What a `quoter run --config` prints: the lines before its first status, and the rest,
    once it has printed that status (the run then stopped by SIGINT, as a person stops it)."""
    before = d.log.read_text(encoding="utf-8") if d.log.exists() else ""
    bot = spawn(["run", "--config", str(d.config)], d.log, d.env)
    try:

        def printed_status() -> bool:
            if bot.poll() is not None:
                raise AssertionError(f"the bot exited with {bot.returncode}\n{tail(d.log)}")
            return "\nquoter  " in d.log.read_text(encoding="utf-8")[len(before) :]

        wait_for(printed_status, START_TIMEOUT_S, "the bot's first status", d.log)
        bot.send_signal(signal.SIGINT)
        assert wait_exit(bot, START_TIMEOUT_S, d.log) == 0, tail(d.log)
    finally:
        reap(bot)
    run = d.log.read_text(encoding="utf-8")[len(before) :]
    head, _, rest = run.partition("\nquoter  ")
    return head.splitlines(), "quoter  " + rest
