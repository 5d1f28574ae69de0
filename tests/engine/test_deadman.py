"""Kills that need no bot, end to end over HTTP against a `quoter sandbox` process: a bot hung
by SIGSTOP and `quoter kill`, which withdraws at the venue itself; a bot dead of SIGKILL and
its dead-man's switch, which withdraws and latches; a clean stop, after which the switch does
nothing. What is live is read from the sandbox's controls, never from the bot.

Real processes, real time: each test takes a few seconds, every wait bounded."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.engine.bots import (
    desk,
    kill_command,
    live_quotes,
    quoting_bot,
    reap_pid,
    sandbox,
    supervisor_pid,
    write_bot_config,
)
from tests.engine.processes import tail, wait_exit, wait_for

QUOTES = 5
WITHDRAWN_WITHIN_S = 8.0  # the switch's 3 s timeout is not in play after a SIGKILL
SUPERVISOR_EXIT_S = 15.0  # its sweep gives up after 10 s


def test_quoter_kill_withdraws_at_the_venue_when_the_bot_is_hung(tmp_path: Path) -> None:
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)  # the kill alone is under test
        with quoting_bot(venue, d, QUOTES) as bot:
            bot.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            done = kill_command(d, "--reason", "desk says stop")
            took_s = time.monotonic() - started
            context = f"kill said:\n{done.stdout}\n{done.stderr}\n{tail(d.log)}"
            assert live_quotes(venue) == 0, context
            assert done.returncode == 0, context
            assert f"{QUOTES} withdrawn; the venue lists none live" in done.stdout, context
            assert [k["reason"] for k in d.kills()] == ["desk says stop"], context
            assert took_s < 10.0, context
            assert "crash-test-client" not in done.stdout + done.stderr  # no secret shown
            assert bot.poll() is None  # still hung: it was the command that withdrew


def test_the_dead_mans_switch_withdraws_and_latches_when_the_bot_is_killed(
    tmp_path: Path,
) -> None:
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=True)
        with quoting_bot(venue, d, QUOTES) as bot:
            supervisor = supervisor_pid(d)
            try:
                bot.kill()
                bot.wait(5.0)
                wait_for(lambda: live_quotes(venue) == 0, WITHDRAWN_WITHIN_S, "withdrawn", d.log)
            finally:
                ended = reap_pid(supervisor, SUPERVISOR_EXIT_S)
        assert ended, f"the switch did not end by itself\n{tail(d.log)}"
        kills = d.kills()
        assert [k["by"] for k in kills] == ["dead-man's switch"], tail(d.log)
        assert "gone without a clean stop" in kills[0]["reason"], kills
        assert kills[0]["scope"] == {"areas": [], "products": [], "strategies": []}


def test_a_clean_stop_leaves_the_dead_mans_switch_nothing_to_do(tmp_path: Path) -> None:
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=True)
        with quoting_bot(venue, d, QUOTES) as bot:
            supervisor = supervisor_pid(d)
            try:
                bot.send_signal(signal.SIGINT)
                exit_code = wait_exit(bot, 20.0, d.log)
            finally:
                ended = reap_pid(supervisor, SUPERVISOR_EXIT_S)
        assert exit_code == 0, tail(d.log)
        assert ended, f"the switch did not end by itself\n{tail(d.log)}"
        assert live_quotes(venue) == 0, tail(d.log)
        assert d.kills() == [], tail(d.log)
        assert "the bot stopped cleanly: nothing to do" in d.log.read_text(encoding="utf-8")
