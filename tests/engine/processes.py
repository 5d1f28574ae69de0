"""`quoter` commands as child processes, for tests that kill them: start, wait, read the sandbox's
controls, and always reap. Every wait has a deadline; nothing here outlives its test."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUOTER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "quoter"
SERVING = re.compile(r"sandbox: serving (http://\S+)")
POLL_S = 0.05
REAP_TIMEOUT_S = 10.0


class ProcessTimeout(AssertionError):
    """A child process or a condition did not get there in time; the message says which."""


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` of a log file, for assertion messages."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text[-lines:])


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, log: Path | None = None
) -> None:
    """Poll `condition` until it holds; after `timeout_s` a ProcessTimeout naming `what`, with
    the tail of `log` as it is then."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            detail = "" if log is None else "\n" + tail(log)
            raise ProcessTimeout(f"{what}: not within {timeout_s} s{detail}")
        time.sleep(POLL_S)


def get_json(url: str, timeout_s: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return json.loads(response.read())


def spawn(args: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """`quoter ARGS`, stdout and stderr appended to `log` under a header naming the run."""
    with log.open("ab") as handle:
        handle.write(f"=== quoter {' '.join(args)}\n".encode())
        handle.flush()
        return subprocess.Popen(
            [str(QUOTER), *args],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=dict(env),
        )


def wait_exit(process: subprocess.Popen[bytes], timeout_s: float, log: Path) -> int:
    """The exit code; a ProcessTimeout with the tail of `log` if it is still running."""
    try:
        return process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        raise ProcessTimeout(f"still running {timeout_s} s later\n{tail(log)}") from None


def reap(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL unless already gone, and wait for it: no zombie, no stray server."""
    if process.poll() is None:
        process.kill()
    process.wait(REAP_TIMEOUT_S)


@dataclass(frozen=True, slots=True)
class SandboxProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def answers(self) -> bool:
        try:
            self.counters()
        except OSError:
            return False
        return True

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = get_json(self.base_url + "/_sandbox/counters")
        counters.pop("request-times", None)  # thousands of floats; useless in a message
        return counters


def _served_url(log: Path) -> str | None:
    match = SERVING.search(log.read_text(encoding="utf-8", errors="replace"))
    return match.group(1) if match else None


@contextmanager
def sandbox_process(
    config: Path, log: Path, env: Mapping[str, str], timeout_s: float = 15.0
) -> Iterator[SandboxProcess]:
    """`quoter sandbox` on an ephemeral port, once it answers; killed and reaped on exit."""
    process = spawn(["sandbox", "--config", str(config), "--port", "0"], log, env)
    try:

        def serving() -> bool:
            if process.poll() is not None:
                raise ProcessTimeout(f"the sandbox exited with {process.returncode}\n{tail(log)}")
            return _served_url(log) is not None

        wait_for(serving, timeout_s, "the sandbox to serve", log)
        url = _served_url(log)
        assert url is not None
        sandbox = SandboxProcess(process, url, log)
        wait_for(sandbox.answers, timeout_s, "the sandbox to answer its controls")
        yield sandbox
    finally:
        reap(process)
