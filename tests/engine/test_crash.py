"""Crash test: `quoter run` killed with SIGKILL at random points, restarted each time, against a
`quoter sandbox` process; the venue never holds two active quotes on one RFQ and, once the last
run stops gracefully, holds none of ours. And a graceful stop while a submit's outcome is unknown
withdraws that quote too.

Two processes with two clocks: the bot reads the real clock, the sandbox starts its clock at real
now (no `start`) and runs it at speed 1, so both agree. The bot's hours are every day, 00:00 to
23:59:59 Berlin, without holidays: it is open whenever the test runs (but for one second a day).
Real processes, real time: these tests sleep, bounded; about 15 s together when they pass.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.engine.processes import (
    SandboxProcess,
    reap,
    sandbox_process,
    spawn,
    tail,
    wait_exit,
    wait_for,
)
from tests.factories import risk_toml

SEED = 20260302
RESTARTS = 6
QUOTE_TIMEOUT_S = 15.0
EXIT_TIMEOUT_S = 20.0  # the engine's final withdrawal gives up after 10 s
CREDENTIALS = {
    "QUOTER_CLIENT_ID": "crash-test-client",
    "QUOTER_CLIENT_SECRET": "crash-test-secret-0123456789",
    "QUOTER_API_KEY": "crash-test-api-key-0123456789abcdef",
}

# Deadlines outlive the test: a quote orphaned by a kill stays active until a restart
# withdraws it, instead of expiring on its own and hiding the orphan.
SANDBOX_TOML = """\
[sandbox]
use_env_credentials = true
daily_quota = 1000000
speed = 1.0
seed = {seed}

[sandbox.market]
arrivals_per_min = 20.0
deadline_min_s = 120.0
deadline_max_s = 300.0
cancel_share = 0.0
"""

BOT_TOML = """\
[venue]
base_url = {base_url}
api_prefix = "/v2.2"
request_timeout_s = 5.0
connect_timeout_s = 2.0

[venue.usage_plan]
rate_per_s = 10.0
burst = 100
daily_quota = 1000000
ledger_path = {ledger}

[curves]
# no path: the synthetic curves

[engine]
audit_dir = {audit}
trades_file = {trades}

[engine.quoting]
reconcile = "withdraw"

[engine.poll]
min_interval_s = 0.2

[engine.hours]
open_local = "00:00:00"
close_local = "23:59:59"
weekdays = [0, 1, 2, 3, 4, 5, 6]
observe_holidays = false

[engine.kill]
latch_path = {latch}

""" + risk_toml()


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5.0) as response:
        return json.loads(response.read())


def _toml_string(path: Path | str) -> str:
    return json.dumps(str(path))  # a JSON string is a TOML basic string


def _write_sandbox_config(path: Path) -> None:
    path.write_text(SANDBOX_TOML.format(seed=SEED), encoding="utf-8")


def _write_bot_config(path: Path, base_url: str, var: Path, venue_extra: str = "") -> None:
    text = BOT_TOML.format(
        base_url=_toml_string(base_url),
        ledger=_toml_string(var / "quota-ledger.json"),
        audit=_toml_string(var / "audit"),
        latch=_toml_string(var / "kill-latch.json"),
        trades=_toml_string(var / "trades.parquet"),
    )
    text = text.replace("connect_timeout_s = 2.0\n", f"connect_timeout_s = 2.0\n{venue_extra}")
    # Any free port: a fixed one clashes with whatever else serves metrics on this host.
    text += "\n[metrics]\nport = 0\n"
    # Restarts after SIGKILL are the point here: the dead-man's switch would latch a kill at
    # each one (tests/engine/test_deadman.py tests it).
    text += "\n[engine.deadman]\nenabled = false\n"
    path.write_text(text, encoding="utf-8")


def audit_records(audit_dir: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for day_file in sorted(audit_dir.glob("audit-*.jsonl")):
        for line in day_file.read_text(encoding="utf-8").splitlines():
            records.append(json.loads(line))
    return records


def reconciliations(audit_dir: Path) -> list[dict[str, Any]]:
    return [r for r in audit_records(audit_dir) if r["kind"] == "reconciled"]


def _check_invariants(counters: dict[str, Any], when: str, bot_log: Path) -> None:
    context = f"{when}: counters {counters}\n{tail(bot_log)}"
    assert counters["duplicate-live"] == 0, context
    assert counters["max-live-quotes-per-rfq"] <= 1, context
    assert counters["rate-limited"] == 0, context


def _quoted_since(sandbox: SandboxProcess, created: int) -> bool:
    return int(sandbox.counters()["quotes-created"]) > created


def _crash_once(
    sandbox: SandboxProcess, bot_toml: Path, bot_log: Path, env: dict[str, str], round_: int
) -> int:
    """Start the bot, SIGKILL it at a random point; the sandbox's live quotes at the kill."""
    rng = random.Random(f"{SEED}/{round_}")
    created = int(sandbox.counters()["quotes-created"])
    bot = spawn(["run", "--config", str(bot_toml)], bot_log, env)
    try:
        if round_ % 2 == 0:
            # Kill while it quotes: soon after its first quote, perhaps with others in flight.
            wait_for(
                lambda: _quoted_since(sandbox, created) or bot.poll() is not None,
                QUOTE_TIMEOUT_S,
                f"round {round_}: a quote from the bot",
                bot_log,
            )
            time.sleep(rng.uniform(0.0, 0.5))
        else:
            # Kill anywhere: starting up, reconciling, polling or quoting.
            time.sleep(rng.uniform(1.0, 4.0))
        assert bot.poll() is None, f"round {round_}: the bot exited by itself\n{tail(bot_log)}"
        bot.kill()
        bot.wait(EXIT_TIMEOUT_S)
    finally:
        reap(bot)
    counters = sandbox.counters()
    _check_invariants(counters, f"after kill {round_}", bot_log)
    return int(counters["live-quotes"])


def _run_and_stop(
    sandbox: SandboxProcess, bot_toml: Path, bot_log: Path, env: dict[str, str], audit: Path
) -> int:
    """Start the bot once more, let it reconcile and quote, stop it with SIGTERM: its exit code."""
    reconciled = len(reconciliations(audit))
    created = int(sandbox.counters()["quotes-created"])
    bot = spawn(["run", "--config", str(bot_toml)], bot_log, env)
    try:
        wait_for(
            lambda: len(reconciliations(audit)) > reconciled or bot.poll() is not None,
            QUOTE_TIMEOUT_S,
            "the last run to reconcile",
            bot_log,
        )
        wait_for(
            lambda: _quoted_since(sandbox, created) or bot.poll() is not None,
            QUOTE_TIMEOUT_S,
            "the last run to quote",
            bot_log,
        )
        assert bot.poll() is None, f"the last run exited by itself\n{tail(bot_log)}"
        bot.send_signal(signal.SIGTERM)
        return wait_exit(bot, EXIT_TIMEOUT_S, bot_log)
    finally:
        reap(bot)


def test_sigkill_restarts_leave_no_duplicate_and_no_orphaned_quote(tmp_path: Path) -> None:
    env = {**os.environ, **CREDENTIALS}
    var = tmp_path / "var"
    audit = var / "audit"
    bot_log = tmp_path / "bot.log"
    sandbox_toml, bot_toml = tmp_path / "sandbox.toml", tmp_path / "bot.toml"
    _write_sandbox_config(sandbox_toml)
    with sandbox_process(sandbox_toml, tmp_path / "sandbox.log", env) as sandbox:
        _write_bot_config(bot_toml, sandbox.base_url, var)
        live_at_kills = [
            _crash_once(sandbox, bot_toml, bot_log, env, round_) for round_ in range(RESTARTS)
        ]
        exit_code = _run_and_stop(sandbox, bot_toml, bot_log, env, audit)
        final = sandbox.counters()

    context = f"live at each kill {live_at_kills}; final counters {final}\n{tail(bot_log)}"
    assert exit_code == 0, context
    _check_invariants(final, "after the graceful stop", bot_log)
    assert final["live-quotes"] == 0, "quotes orphaned at the venue: " + context
    assert final["quotes-created"] > 0, "the bot never quoted, so nothing was tested: " + context
    assert any(live_at_kills), "no kill left a live quote behind to reconcile: " + context
    found = [r["found-live"] for r in reconciliations(audit)]
    assert any(n > 0 for n in found), f"no restart found live quotes ({found}): " + context
    latch = var / "kill-latch.json"
    kills = json.loads(latch.read_text(encoding="utf-8"))["kills"] if latch.exists() else []
    assert kills == [], f"a restart latched a kill: {kills}\n" + context


def test_sigterm_withdraws_a_quote_whose_submit_outcome_is_unknown(tmp_path: Path) -> None:
    """The venue stores the quote but answers 504, and no retry is allowed: its outcome is
    unknown. The read that would resolve it is held up; SIGTERM then must still find the quote
    at the venue and withdraw it, not wait for an answer that no one will bring."""
    env = {**os.environ, **CREDENTIALS}
    var = tmp_path / "var"
    audit = var / "audit"
    bot_log = tmp_path / "bot.log"
    sandbox_toml, bot_toml = tmp_path / "sandbox.toml", tmp_path / "bot.toml"
    sandbox_toml.write_text(
        SANDBOX_TOML.format(seed=SEED).replace("arrivals_per_min = 20.0", "enabled = false"),
        encoding="utf-8",
    )
    with sandbox_process(sandbox_toml, tmp_path / "sandbox.log", env) as sandbox:
        _write_bot_config(bot_toml, sandbox.base_url, var, venue_extra="submit_retries = 0\n")
        bot = spawn(["run", "--config", str(bot_toml)], bot_log, env)
        try:
            wait_for(lambda: bool(reconciliations(audit)), QUOTE_TIMEOUT_S, "reconcile", bot_log)
            faults = sandbox.base_url + "/_sandbox/faults"
            _post(faults, {"kind": "quote-504", "method": "POST", "path": "/quotes"})
            _post(faults, {"kind": "latency", "method": "GET", "path": "/quotes", "latency-s": 8})
            _post(sandbox.base_url + "/_sandbox/rfqs", {})
            wait_for(
                lambda: any(
                    str(r.get("answer")).startswith("outcome-unknown: ")
                    for r in audit_records(audit)
                ),
                QUOTE_TIMEOUT_S,
                "a submit with an unknown outcome",
                bot_log,
            )
            wait_for(
                lambda: sandbox.counters()["faults-injected"].get("latency", 0) > 0,
                QUOTE_TIMEOUT_S,
                "the read of our quotes held up",
                bot_log,
            )
            bot.send_signal(signal.SIGTERM)
            exit_code = wait_exit(bot, EXIT_TIMEOUT_S, bot_log)
        finally:
            reap(bot)
        final = sandbox.counters()

    context = f"counters {final}\n{tail(bot_log)}"
    assert final["quotes-created"] == 1, context
    assert exit_code == 0, context
    assert final["live-quotes"] == 0, "the unknown quote was left live: " + context


SPIN_STRATEGY = '''\
from dataclasses import dataclass


@dataclass(frozen=True)
class Spin:
    """Never answers: a busy loop, as a strategy with a bug in a while loop would."""

    def price(self, rfq, market):
        while True:
            pass
'''


def test_sigint_ends_the_bot_while_a_strategy_thread_spins(tmp_path: Path) -> None:
    """A strategy stuck in a busy loop is cut off at its timeout and never called again while
    it spins; SIGINT then ends the process within the drain time, its thread notwithstanding."""
    (tmp_path / "spin_desk.py").write_text(SPIN_STRATEGY, encoding="utf-8")
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(tmp_path)}
    var = tmp_path / "var"
    bot_log = tmp_path / "bot.log"
    sandbox_toml, bot_toml = tmp_path / "sandbox.toml", tmp_path / "bot.toml"
    _write_sandbox_config(sandbox_toml)
    with sandbox_process(sandbox_toml, tmp_path / "sandbox.log", env) as sandbox:
        _write_bot_config(bot_toml, sandbox.base_url, var)
        text = bot_toml.read_text(encoding="utf-8")
        text = text.replace(
            '[engine.quoting]\nreconcile = "withdraw"\n',
            '[engine.quoting]\nreconcile = "withdraw"\nstrategy_timeout_s = 0.2\n\n'
            '[engine.strategy]\nname = "spin_desk:Spin"\n',
        )
        bot_toml.write_text(text, encoding="utf-8")
        bot = spawn(["run", "--config", str(bot_toml)], bot_log, env)
        try:

            def timed_out() -> bool:
                assert bot.poll() is None, f"the bot exited by itself\n{tail(bot_log)}"
                trail = (var / "audit").glob("audit-*.jsonl")
                return any(b'"reason":"strategy-timeout"' in f.read_bytes() for f in trail)

            wait_for(timed_out, QUOTE_TIMEOUT_S * 2, "a strategy timeout", bot_log)
            bot.send_signal(signal.SIGINT)
            exit_code = wait_exit(bot, EXIT_TIMEOUT_S, bot_log)
        finally:
            reap(bot)
        live = sandbox.counters()["live-quotes"]
    assert exit_code == 0, tail(bot_log)
    assert live == 0
