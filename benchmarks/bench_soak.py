"""Crash soak: `quoter run` SIGKILLed at random points and restarted, SOAK_ROUNDS times (100),
against a `quoter sandbox` process; then one graceful stop. Reports duplicates (two active
quotes on one RFQ), quotes live at each kill and a few seconds after it, orphans (live at the
venue after the last graceful stop), and the quota ledger's count against the venue's.

Real processes on the real clock: about 4 s a round. Bounded: each wait has a deadline, and a
round that fails its wait is reported, not retried.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from quoter.engine.killswitch import KillSwitch
from quoter.venue.ledger import QuotaLedger
from tests.engine.processes import SandboxProcess, reap, sandbox_process, spawn, wait_for
from tests.engine.test_crash import (
    CREDENTIALS,
    QUOTE_TIMEOUT_S,
    _write_bot_config,
    _write_sandbox_config,
)

AFTER_KILL_S = 5.0  # when the quotes left by a kill are counted again


def run() -> None:
    rounds = int(os.environ.get("SOAK_ROUNDS", "100"))
    with tempfile.TemporaryDirectory() as scratch:
        _soak(Path(scratch), rounds)


def _soak(tmp: Path, rounds: int) -> None:
    env = {**os.environ, **CREDENTIALS}
    var, log = tmp / "var", tmp / "bot.log"
    _write_sandbox_config(tmp / "sandbox.toml")
    with sandbox_process(tmp / "sandbox.toml", tmp / "sandbox.log", env) as sandbox:
        _write_bot_config(tmp / "bot.toml", sandbox.base_url, var)
        bot_toml = tmp / "bot.toml"  # with its dead-man's switch, as `quoter run` starts it
        text = bot_toml.read_text(encoding="utf-8")
        bot_toml.write_text(text.replace("enabled = false", "enabled = true"), encoding="utf-8")
        at_kill, after_kill, duplicates, missed = [], [], 0, 0
        started = time.monotonic()
        for round_ in range(rounds):
            live, later, ok = _crash_once(sandbox, tmp / "bot.toml", log, env, round_)
            # The dead-man's switch latched a kill for the crash: a person resumes.
            KillSwitch(var / "kill-latch.json").resume()
            at_kill.append(live)
            after_kill.append(later)
            missed += not ok
            counters = sandbox.counters()
            duplicates = max(duplicates, int(counters["duplicate-live"]))
            if (round_ + 1) % 10 == 0:
                print(
                    f"  round {round_ + 1}/{rounds}: {time.monotonic() - started:.0f} s", flush=True
                )
        orphans = _stop_gracefully(sandbox, tmp / "bot.toml", log, env)
        final = sandbox.counters()
    ledger = QuotaLedger(var / "quota-ledger.json", CREDENTIALS["QUOTER_API_KEY"])
    spent_ledger = ledger.load(datetime.now(UTC).date()).spent
    spent_venue = next(iter(final["quota-spent"].values()))
    print(f"rounds {rounds} (no quote within {QUOTE_TIMEOUT_S:.0f} s: {missed})")
    print(f"duplicates (two active quotes on one RFQ, at any time): {duplicates}")
    print(
        f"live at each kill: mean {statistics.fmean(at_kill):.1f}, max {max(at_kill)}; "
        f"{AFTER_KILL_S:.0f} s after: mean {statistics.fmean(after_kill):.1f}, "
        f"max {max(after_kill)}"
    )
    print(f"orphans live after the graceful stop: {orphans}")
    print(f"quotes created {final['quotes-created']}; 429s {final['rate-limited']}")
    print(f"quota: ledger {spent_ledger}, venue {spent_venue} (the ledger may only count more)")


def _crash_once(
    sandbox: SandboxProcess, bot_toml: Path, log: Path, env: dict[str, str], round_: int
) -> tuple[int, int, bool]:
    rng = random.Random(f"soak/{round_}")
    created = int(sandbox.counters()["quotes-created"])
    bot = spawn(["run", "--config", str(bot_toml)], log, env)
    ok = True
    try:
        try:
            wait_for(
                lambda: int(sandbox.counters()["quotes-created"]) > created,
                QUOTE_TIMEOUT_S,
                f"round {round_}: a quote",
            )
        except AssertionError:
            ok = False
        time.sleep(rng.uniform(0.0, 0.5))
        bot.kill()
        bot.wait(10)
    finally:
        reap(bot)
    live = int(sandbox.counters()["live-quotes"])
    time.sleep(AFTER_KILL_S)
    return live, int(sandbox.counters()["live-quotes"]), ok


def _stop_gracefully(
    sandbox: SandboxProcess, bot_toml: Path, log: Path, env: dict[str, str]
) -> int:
    bot = spawn(["run", "--config", str(bot_toml)], log, env)
    try:
        created = int(sandbox.counters()["quotes-created"])
        wait_for(
            lambda: int(sandbox.counters()["quotes-created"]) > created,
            QUOTE_TIMEOUT_S,
            "the last run to quote",
        )
        bot.send_signal(signal.SIGINT)
        bot.wait(30)
    finally:
        reap(bot)
    return int(sandbox.counters()["live-quotes"])


if __name__ == "__main__":
    run()
