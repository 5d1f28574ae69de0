"""How long a desk waits for `quoter kill`: from the process's start to its request arriving at
the bot's admin address, for kill, resume and status; and, beside them, the start-up to exit of
`--help` for those and for `quoter backtest`, which loads the whole backtest stack.

The admin address is a stdlib HTTP server on loopback that notes when each request arrives and
answers as the bot would; the commands run as desks run them, each in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RUNS = 10
TOKEN = secrets.token_urlsafe(24)
ANSWERS: dict[str, object] = {
    "/kill": {"state": "halted", "kill": None, "withdrawing": 0},
    "/resume": {"lifted": [], "state": "active"},
    "/status": {"state": "active", "kills": []},
}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "quoter", *args]


@contextmanager
def _admin_address() -> Iterator[tuple[int, queue.Queue[float]]]:
    """A stand-in for the bot's admin interface; yields its port and the arrival times."""
    arrivals: queue.Queue[float] = queue.Queue()

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            arrivals.put(time.monotonic())  # the request line and headers are in: it was sent
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(ANSWERS.get(self.path, {})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], arrivals
    finally:
        server.shutdown()
        thread.join()


def _to_request_ms(args: list[str], arrivals: queue.Queue[float], env: dict[str, str]) -> float:
    started = time.monotonic()
    process = subprocess.Popen(
        _command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        arrived = arrivals.get(timeout=30)
    except queue.Empty:
        _, err = process.communicate(timeout=30)
        raise RuntimeError(f"quoter {' '.join(args)} sent nothing: {err.decode()}") from None
    process.wait(30)
    return (arrived - started) * 1000


def _to_exit_ms(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(_command(*args), env=env, stdout=subprocess.DEVNULL, check=True, timeout=60)
    return (time.monotonic() - started) * 1000


def _line(what: str, times_ms: list[float]) -> str:
    p50 = statistics.median(times_ms)
    return f"  {what:<28} p50 {p50:7.0f} ms   max {max(times_ms):7.0f} ms   ({len(times_ms)} runs)"


def run() -> None:
    env = {**os.environ, "QUOTER_ADMIN_TOKEN": TOKEN}
    with tempfile.TemporaryDirectory() as tmp, _admin_address() as (port, arrivals):
        config = Path(tmp) / "bot.toml"
        config.write_text(
            f'[engine.kill]\nlatch_path = "{Path(tmp) / "kill.json"}"\n[admin]\nport = {port}\n',
            encoding="utf-8",
        )
        print("process start to the admin request sent (arrived at the bot's address):")
        for args in (["kill", "--area", "de"], ["resume"], ["status", "--json"]):
            full = [*args, "--config", str(config)]
            _to_request_ms(full, arrivals, env)  # a first run fills the OS's file cache
            times = [_to_request_ms(full, arrivals, env) for _ in range(RUNS)]
            print(_line(f"quoter {' '.join(args)}", times), flush=True)
    print("process start to exit:")
    for command in ("kill", "resume", "status", "backtest"):
        _to_exit_ms([command, "--help"], env)
        times = [_to_exit_ms([command, "--help"], env) for _ in range(RUNS)]
        print(_line(f"quoter {command} --help", times), flush=True)
