"""The admin interface served for a running engine, and calls to it as a client would make."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from quoter.admin.config import AdminConfig
from quoter.admin.server import serve_admin
from tests.engine.harness import Running

TOKEN = secrets.token_urlsafe(24)


@asynccontextmanager
async def admin_for(running: Running, token: str = TOKEN) -> AsyncIterator[str]:
    """The admin interface of `running` on an ephemeral loopback port; yields its base URL."""
    async with serve_admin(AdminConfig(port=0), running.engine, SecretStr(token)) as url:
        yield url


async def call(
    url: str,
    method: str,
    path: str,
    body: object = None,
    *,
    token: str | None = TOKEN,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request; (status, JSON answer)."""
    sent = {"X-Quoter-User": "tester", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url + path, json=body, headers=sent) as answer,
    ):
        return answer.status, await answer.json(content_type=None)


def bot_config(tmp_path: Path, admin_url: str | None = None, extra: str = "") -> Path:
    """A config file naming the test engine's latch and, when given, its admin port."""
    port = free_port() if admin_url is None else int(admin_url.rsplit(":", 1)[1])
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[engine]\naudit_dir = "{tmp_path / "audit"}"\n'
        f'[engine.kill]\nlatch_path = "{tmp_path / "kill.json"}"\n'
        f"[admin]\nport = {port}\n"
        f'token_file = "{tmp_path / "no-token-file"}"\n' + extra,
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
