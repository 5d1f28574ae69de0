"""A second `quoter run` on a desk's state, refused: a copy of the running bot's configuration
with other ports only (the twin a person makes by mistake) starts nothing, sends nothing and
writes nothing, and the first bot's quotes stay live; once the first is gone, even by SIGKILL
(its lock file left behind), a new start runs.

Real processes against a `quoter sandbox` process; a few seconds, every wait bounded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.engine.bots import (
    desk,
    free_port,
    live_quotes,
    quoting_bot,
    sandbox,
    start_output,
    write_bot_config,
)
from tests.engine.processes import reap, spawn, tail, wait_exit
from tests.engine.test_crash import audit_records

QUOTES = 3
REFUSED_WITHIN_S = 20.0


def _starts(audit_dir: Path) -> list[dict[str, Any]]:
    return [r for r in audit_records(audit_dir) if r["kind"] == "start"]


def _twin_of(config: Path) -> Path:
    """The same file with the admin interface on another port (metrics are on port 0)."""
    twin = config.with_name("twin.toml")
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"\[admin\]\nport = \d+", f"[admin]\nport = {free_port()}", text)
    twin.write_text(text, encoding="utf-8")
    return twin


def test_a_twin_on_the_same_state_is_refused_and_the_first_bot_keeps_quoting(
    tmp_path: Path,
) -> None:
    d = desk(tmp_path)
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)
        twin_config = _twin_of(d.config)
        twin_log = tmp_path / "twin.log"
        with quoting_bot(venue, d, QUOTES) as first:
            starts = _starts(d.var / "audit")
            twin = spawn(["run", "--config", str(twin_config)], twin_log, d.env)
            try:
                code = wait_exit(twin, REFUSED_WITHIN_S, twin_log)
            finally:
                reap(twin)
            said = twin_log.read_text(encoding="utf-8")
            assert code == 2, said
            assert "Traceback" not in said, said
            assert f"audit trail {d.var / 'audit'} is in use" in said, said
            assert f"pid {first.pid} (started " in said, said
            assert live_quotes(venue) == QUOTES, tail(d.log)
            # Not a record from the twin: a run's first record is its start. (A count of every
            # record raced the first bot's own, still quoting.)
            assert _starts(d.var / "audit") == starts
            assert first.poll() is None, tail(d.log)
            first.kill()  # its lock file stays behind; the OS has let go of the lock
            first.wait(5.0)
        lines, _ = start_output(d)  # runs to its first status and stops cleanly
        assert not any("in use" in line for line in lines), tail(d.log)
