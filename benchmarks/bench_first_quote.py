"""A newcomer's first minute: from `quoter run` (the demo, no configuration) starting to the
first quote on its status screen, and to its summary after Ctrl-C, each run in a fresh empty
folder, as `make run` runs it in a fresh clone (the venv's set-up not included: `make setup`
times that, and depends on the package index's cache).
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3
FIRST_QUOTE = re.compile(r"^quotes +sent [1-9]")
TIMEOUT_S = 180.0


def _one_run(folder: Path) -> tuple[float, float]:
    """Seconds to the first quote on screen, and from Ctrl-C to the process's exit."""
    started = time.monotonic()
    bot = subprocess.Popen(
        [str(Path(sys.executable).parent / "quoter"), "run"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert bot.stdout is not None
    try:
        for line in bot.stdout:
            if FIRST_QUOTE.search(line):
                break
            if time.monotonic() - started > TIMEOUT_S:
                raise RuntimeError(f"no quote on screen after {TIMEOUT_S:g} s")
        else:
            raise RuntimeError(f"quoter run ended before its first quote (exit {bot.wait()})")
        first = time.monotonic() - started
        interrupted = time.monotonic()
        os.killpg(bot.pid, signal.SIGINT)
        rest, _ = bot.communicate(timeout=60)
        if "every live quote withdrawn" not in rest:
            raise RuntimeError(f"no clean stop:\n{rest[-2000:]}")
        return first, time.monotonic() - interrupted
    finally:
        if bot.poll() is None:
            os.killpg(bot.pid, signal.SIGKILL)
            bot.communicate()


def run() -> None:
    firsts, stops = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="quoter-first-") as folder:
            first, stop = _one_run(Path(folder))
        firsts.append(first)
        stops.append(stop)
    print(f"first quote: `quoter run` in a fresh folder, {RUNS} runs (wall clock, this machine)")
    print(
        f"  to the first quote on screen  median {statistics.median(firsts):.1f} s  "
        f"(min {min(firsts):.1f}, max {max(firsts):.1f})"
    )
    print(
        f"  Ctrl-C to exit, quotes withdrawn  median {statistics.median(stops):.1f} s  "
        f"(min {min(stops):.1f}, max {max(stops):.1f})"
    )


if __name__ == "__main__":
    run()
