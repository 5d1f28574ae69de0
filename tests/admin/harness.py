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
from quoter.sandbox.server import RunningSandbox
from tests.engine.harness import Running, fast_sandbox, running_engine

TOKEN = secrets.token_urlsafe(24)


@asynccontextmanager
async def admin_for(running: Running, token: str = TOKEN) -> AsyncIterator[str]:
    """The admin interface of `running` on an ephemeral loopback port; yields its base URL."""
    async with serve_admin(AdminConfig(port=0), running.engine, SecretStr(token)) as url:
        yield url


@asynccontextmanager
async def admin_bot(tmp_path: Path) -> AsyncIterator[tuple[RunningSandbox, Running, str]]:
    """A sandbox, the engine quoting it and that engine's admin interface: (sandbox, engine,
    admin base URL)."""
    async with (
        fast_sandbox() as sandbox,
        running_engine(sandbox, tmp_path) as bot,
        admin_for(bot) as url,
    ):
        yield sandbox, bot, url


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
