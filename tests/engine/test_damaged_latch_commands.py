"""A damaged kill latch, met by `quoter kill`, `quoter run` and `quoter resume` as real
processes: a kill still withdraws at the venue (a hung bot's quotes included) and says in one
line that it is not latched; a run and a resume refuse in one line, exit 2, and leave the file
for a person. Never a traceback; the damaged file is never read as "no kill"."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.engine.bots import (
    Desk,
    desk,
    kill_command,
    live_quotes,
    quoting_bot,
    sandbox,
    this_checkout,
    write_bot_config,
)
from tests.engine.processes import QUOTER, tail

QUOTES = 3
TRUNCATED = '{"last-id": 1, "kills": [{"id": 1, "re'  # a torn write


def _damage(d: Desk) -> str:
    latch = d.var / "kill-latch.json"
    latch.parent.mkdir(parents=True, exist_ok=True)
    latch.write_text(TRUNCATED, encoding="utf-8")
    return str(latch)


def _quoter(d: Desk, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(QUOTER), *args],
        env=d.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(done: subprocess.CompletedProcess[str], latch: str) -> str:
    """The command's stderr, checked to be one line naming the latch, with no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if latch in line]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_quoter_kill_withdraws_from_a_hung_bot_when_the_latch_is_damaged(tmp_path: Path) -> None:
    d = this_checkout(desk(tmp_path))
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)
        with quoting_bot(venue, d, QUOTES) as bot:
            bot.send_signal(signal.SIGSTOP)
            latch = _damage(d)
            done = kill_command(d, "--reason", "desk says stop")
            context = f"kill said:\n{done.stdout}\n{done.stderr}\n{tail(d.log)}"
            assert live_quotes(venue) == 0, context
            assert done.returncode == 1, context
            said = _one_line(done, latch)
            assert said.startswith(f"quoter kill: NOT LATCHED ({latch}: unreadable"), said
            assert "once the file is fixed, `quoter kill` again latches it" in said, said
            assert f"{QUOTES} withdrawn; the venue lists none live" in done.stdout, context
            assert Path(latch).read_text(encoding="utf-8") == TRUNCATED  # left to a person


def test_quoter_run_refuses_to_start_on_a_damaged_latch(tmp_path: Path) -> None:
    d = this_checkout(desk(tmp_path))
    write_bot_config(d, "http://127.0.0.1:9", deadman=False)  # never reached
    latch = _damage(d)
    done = _quoter(d, "run", "--config", str(d.config))
    assert done.returncode == 2, done.stderr
    said = _one_line(done, latch)
    assert said.startswith(f"quoter: not started: {latch}: unreadable kill latch"), said
    assert Path(latch).read_text(encoding="utf-8") == TRUNCATED


def test_the_demo_refuses_to_start_on_a_damaged_latch(tmp_path: Path) -> None:
    d = this_checkout(desk(tmp_path))
    latch = tmp_path / "var" / "demo" / "kill-latch.json"
    latch.parent.mkdir(parents=True)
    latch.write_text(TRUNCATED, encoding="utf-8")
    done = _quoter(d, "run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    said = _one_line(done, "var/demo/kill-latch.json")
    assert said.startswith("quoter: not started: var/demo/kill-latch.json: unreadable"), said
    assert "sandbox on" not in done.stdout  # nothing started


def test_quoter_resume_without_a_bot_lifts_nothing_from_a_damaged_latch(tmp_path: Path) -> None:
    d = this_checkout(desk(tmp_path))
    write_bot_config(d, "http://127.0.0.1:9", deadman=False)  # its admin port: no one there
    latch = _damage(d)
    done = _quoter(d, "resume", "--config", str(d.config))
    assert done.returncode == 2, done.stderr
    said = _one_line(done, latch)
    assert said.startswith(f"quoter resume: nothing lifted: {latch}: unreadable"), said
    assert Path(latch).read_text(encoding="utf-8") == TRUNCATED
