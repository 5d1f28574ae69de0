"""Kills that need no bot, end to end over HTTP against a `quoter sandbox` process: a bot hung
by SIGSTOP and `quoter kill`, which withdraws at the venue itself; a bot dead of SIGKILL and
its dead-man's switch, which withdraws and latches; a clean stop, after which the switch does
nothing. What is live is read from the sandbox's controls, never from the bot.

Real processes, real time: each test takes a few seconds, every wait bounded."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.engine.bots import (
    desk,
    kill_command,
    live_quotes,
    pid_running,
    post_rfq,
    quoting_bot,
    reap_pid,
    sandbox,
    supervisor_pid,
    write_bot_config,
)
from tests.engine.processes import QUOTER, get_json, reap, spawn, tail, wait_exit, wait_for
from tests.engine.test_crash import _post

QUOTES = 5
WITHDRAWN_WITHIN_S = 8.0  # the switch's 3 s timeout is not in play after a SIGKILL
SUPERVISOR_EXIT_S = 15.0  # its sweep gives up after 10 s
STORED_AFTER_S = 8.0  # the late quote: past the bot's stop (2 s here) and the switch's sweep


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


def test_the_switch_watches_a_bot_again_once_it_comes_back_after_a_firing(
    tmp_path: Path,
) -> None:
    # Hung: the switch fires and withdraws. Continued and resumed, the bot quotes again; hung
    # again, the same switch fires again: the bot never runs unwatched after a first firing.
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=True)
        with quoting_bot(venue, d, 2) as bot:
            supervisor = supervisor_pid(d)
            try:
                bot.send_signal(signal.SIGSTOP)
                wait_for(lambda: live_quotes(venue) == 0, 10.0, "the first firing", d.log)
                bot.send_signal(signal.SIGCONT)
                said = subprocess.run(
                    [str(QUOTER), "resume", "--config", str(d.config)],
                    env=d.env, capture_output=True, text=True, timeout=30, check=False,
                )  # fmt: skip
                assert said.returncode == 0, said.stderr
                wait_for(lambda: "beats again" in d.log.read_text(), 10.0, "re-armed", d.log)
                for _ in range(2):
                    post_rfq(venue)
                wait_for(lambda: live_quotes(venue) == 2, 20.0, "quoting again", d.log)
                bot.send_signal(signal.SIGSTOP)
                wait_for(lambda: live_quotes(venue) == 0, 10.0, "the second firing", d.log)
                assert pid_running(supervisor)  # still watching the hung bot
            finally:
                bot.send_signal(signal.SIGCONT)
                bot.kill()
                reap_pid(supervisor, SUPERVISOR_EXIT_S)
    fired = d.log.read_text(encoding="utf-8").count("dead-man's switch: firing: ")
    assert fired >= 2, tail(d.log)


def test_a_start_the_venue_refuses_is_a_stop_the_switch_leaves_alone(tmp_path: Path) -> None:
    # Wrong credentials: the start latches its own kill and stops; the switch sees a clean
    # stop, not a bot gone, and adds no second, false kill of its own.
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=True)
        env = {**d.env, "QUOTER_CLIENT_SECRET": "not-the-secret-0123456789"}
        bot = spawn(["run", "--config", str(d.config)], d.log, env)
        try:
            supervisor = supervisor_pid(d)
            assert wait_exit(bot, 30.0, d.log) == 2
        finally:
            reap(bot)
        assert reap_pid(supervisor, SUPERVISOR_EXIT_S), tail(d.log)
    reasons = [k["reason"] for k in d.kills()]
    assert len(reasons) == 1, reasons
    assert reasons[0].startswith("start failed: AuthenticationFailed"), reasons
    assert "the bot stopped cleanly: nothing to do" in d.log.read_text(encoding="utf-8")


def test_a_quote_the_venue_stores_after_the_stop_is_withdrawn_by_the_switch(
    tmp_path: Path,
) -> None:
    # Every attempt at the submit is answered 504 and the venue stores the quote 8 s later:
    # the bot stops (SIGTERM) with its outcome unknown, not clean; the switch fires on the bot
    # gone, sweeps and finds nothing yet, and must keep looking for the quote until its
    # valid-until, not give up: once stored, it is withdrawn, and then the switch ends.
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=True)
        text = d.config.read_text(encoding="utf-8")
        d.config.write_text(
            text.replace("[engine.kill]\n", "[engine.kill]\nstop_withdraw_timeout_s = 2.0\n"),
            encoding="utf-8",
        )
        with quoting_bot(venue, d, 0) as bot:
            supervisor = supervisor_pid(d)
            try:
                late = {"kind": "quote-504-late", "count": 3, "store-after-s": STORED_AFTER_S}
                _post(venue.base_url + "/_sandbox/faults", {**late, "method": "POST"})
                post_rfq(venue)
                wait_for(lambda: "outcome unknown" in d.log.read_text(), 10.0, "unknown", d.log)
                bot.send_signal(signal.SIGTERM)
                assert wait_exit(bot, 10.0, d.log) == 1, tail(d.log)  # possibly live: said
                time.sleep(STORED_AFTER_S + 1.0)
                get_json(venue.base_url + "/_sandbox/clock")  # the sandbox stores what is due
                assert venue.counters()["quotes-created"] == 1, tail(d.log)
                wait_for(lambda: live_quotes(venue) == 0, 40.0, "the late quote withdrawn", d.log)
            finally:
                ended = reap_pid(supervisor, SUPERVISOR_EXIT_S)
        assert ended, f"the switch did not end once the quote was withdrawn\n{tail(d.log)}"
    said = d.log.read_text(encoding="utf-8")
    assert "looking for 1 quote" in said, tail(d.log)
    assert [k["by"] for k in d.kills()] == ["dead-man's switch"], tail(d.log)
