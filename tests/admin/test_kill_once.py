"""One `quoter kill`, one kill: a bot too slow to answer (hung) gets the request, the command
latches the kill itself, and the bot, woken, handles the request it was sent: the two carry
the command's id, so the bot takes it for the kill already latched. The hung bot is a socket
that reads the request and never answers; the request it read is then replayed to a real bot
latching in the same file."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from quoter.admin.config import COMMAND_ID_HEADER, TOKEN_VARIABLE
from quoter.cli import main
from quoter.engine.killswitch import KillSwitch
from quoter.venue.config import CREDENTIAL_VARIABLES
from tests.admin.harness import TOKEN, admin_bot, bot_config, call

READ_S = 5.0


class _HungBot:
    """Listens on loopback, reads one request whole and never answers it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.request = b""
        self.read = threading.Event()
        self._held: list[socket.socket] = []

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        self._held.append(connection)  # open, unanswered, until the test ends
        connection.settimeout(READ_S)
        while not _whole(self.request):
            self.request += connection.recv(65536)
        self.read.set()

    def close(self) -> None:
        for held in [*self._held, self.listener]:
            held.close()

    def header(self, name: str) -> str:
        head = self.request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for line in head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        raise AssertionError(f"no {name} header in {head!r}")

    def body(self) -> bytes:
        return self.request.split(b"\r\n\r\n", 1)[1]


def _whole(request: bytes) -> bool:
    head, found, body = request.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return True


@contextmanager
def _hung_bot() -> Iterator[_HungBot]:
    hung = _HungBot()
    thread = threading.Thread(target=hung.serve, daemon=True)
    thread.start()
    try:
        yield hung
    finally:
        hung.close()
        thread.join(READ_S)


async def test_a_kill_sent_to_a_hung_bot_is_latched_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    for variable in CREDENTIAL_VARIABLES.values():  # nothing to withdraw at a venue
        monkeypatch.delenv(variable, raising=False)
    async with admin_bot(tmp_path) as (_, bot, url):
        with _hung_bot() as hung:
            config = str(bot_config(tmp_path, hung.url))
            command = ["kill", "--config", config, "--area", "de", "--product", "MONTH"]
            assert await asyncio.to_thread(main, command) == 1  # no credentials: said, exit 1
            assert "latched as kill 1" in capsys.readouterr().out
            assert hung.read.is_set()
            command_id = hung.header(COMMAND_ID_HEADER)
            status, answer = await _replay(url, hung.body(), command_id)
        assert status == 200, answer
        assert answer["kill"]["id"] == 1
        kills = KillSwitch(tmp_path / "kill.json").kills
        assert [(k.id, k.command_id) for k in kills] == [(1, command_id)]
        assert [k.id for k in bot.deps.killswitch.kills] == [1]


async def _replay(url: str, body: bytes, command_id: str) -> tuple[int, Any]:
    """The request the hung bot read, as the bot reads it when it wakes."""
    headers = {COMMAND_ID_HEADER: command_id}
    return await call(url, "POST", "/kill", json.loads(body), headers=headers)
