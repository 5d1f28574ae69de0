"""The admin interface's client, for the CLI: plain blocking HTTP (one call per command), the
token from the same place the bot reads it, and errors that say what to do.

    AdminError
     ├── BotNotRunning   nobody answers at the address: the bot is not running there
     └── AdminRefused    the bot answered no: bad token or Host (401/403), bad request (400)
"""

from __future__ import annotations

import getpass
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from quoter.admin.config import COMMAND_ID_HEADER, USER_HEADER, AdminConfig, read_token


class AdminError(Exception):
    """A call to the admin interface that did not succeed; the message says why."""


class BotNotRunning(AdminError):
    """Nothing answers at the admin address."""


class AdminRefused(AdminError):
    """The bot refused the call; `status` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AdminClient:
    def __init__(self, base_url: str, token: SecretStr, timeout_s: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    @classmethod
    def from_config(cls, config: AdminConfig) -> AdminClient:
        """For the bot configured by `config`; AdminTokenError when there is no token."""
        return cls(config.url(), read_token(config), config.timeout_s)

    @property
    def base_url(self) -> str:
        return self._base_url

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def kill(
        self,
        reason: str,
        areas: list[str] | None = None,
        products: list[str] | None = None,
        strategies: list[str] | None = None,
        command_id: str | None = None,
    ) -> dict[str, Any]:
        """Latch a kill; `command_id` names the command, should it latch the kill itself too."""
        body = {
            "reason": reason,
            "areas": areas or [],
            "products": products or [],
            "strategies": strategies or [],
        }
        headers = {} if command_id is None else {COMMAND_ID_HEADER: command_id}
        return self._call("POST", "/kill", body, headers)

    def resume(self, kills: list[int] | None = None) -> dict[str, Any]:
        """Lift the kills with these ids, or every one (None)."""
        return self._call("POST", "/resume", {} if kills is None else {"kills": kills})

    def swap(self, name: str, params: Mapping[str, object]) -> dict[str, Any]:
        return self._call("POST", "/swap", {"name": name, "params": dict(params)})

    def shadow(self) -> dict[str, Any]:
        return self._call("GET", "/shadow")

    def _call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self._token.get_secret_value()}",
                "Content-Type": "application/json",
                USER_HEADER: getpass.getuser(),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as answer:
                result: dict[str, Any] = json.loads(answer.read())
                return result
        except urllib.error.HTTPError as error:
            raise AdminRefused(error.code, _message(error)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise BotNotRunning(
                f"no bot answering at {self._base_url} ({reason}): is `quoter run` running "
                "with the admin interface on?"
            ) from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read().decode("utf-8", "replace")
        found = json.loads(text).get("error", text)
    except (ValueError, AttributeError, OSError):
        found = error.reason
    return f"{error.code}: {found}"
