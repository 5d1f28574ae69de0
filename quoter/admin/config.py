"""Configuration of the admin interface, and where its token comes from: the environment
(`QUOTER_ADMIN_TOKEN`) or a file only the desk can read. Never the configuration itself."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from quoter.basics.frozen import Frozen
from quoter.basics.loopback import is_loopback

TOKEN_VARIABLE = "QUOTER_ADMIN_TOKEN"
USER_HEADER = "X-Quoter-User"  # who calls, as the caller says: for the audit trail
# The `quoter kill` a kill request is from: a header, which a bot from before it ignores.
COMMAND_ID_HEADER = "X-Quoter-Command-Id"
MIN_TOKEN_CHARS = 16
# The bot cannot read or write its kill latch: a resume lifted nothing (the CLI does not retry).
LATCH_UNUSABLE = 409
MAX_REASON_CHARS = 300  # of a kill's reason: the CLI checks it before the bot would refuse it


class AdminTokenError(Exception):
    """No usable admin token; the message says where one was looked for (never its value)."""


class AdminConfig(Frozen):
    enabled: bool = Field(True, description="serve the admin interface while quoting")
    host: str = Field("127.0.0.1", description="address to bind (loopback unless allow_remote)")
    port: int = Field(9465, ge=0, le=65535, description="0: any free port")
    token_file: Path = Field(
        Path("var/admin-token"), description=f"the token, unless {TOKEN_VARIABLE} is set"
    )
    allow_remote: bool = Field(False, description="permit binding a non-loopback host")
    timeout_s: float = Field(5.0, gt=0, description="the CLI's wait for an answer")

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> AdminConfig:
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(f"host {self.host!r} is not loopback; set allow_remote to bind it")
        return self

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}"


def read_token(config: AdminConfig, environ: Mapping[str, str] | None = None) -> SecretStr:
    """The token from the environment, else from `token_file`."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_VARIABLE, "").strip()
    source = TOKEN_VARIABLE
    if not token:
        source = str(config.token_file)
        try:
            _refuse_if_shared(config.token_file)
            token = config.token_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise AdminTokenError(
                f"no admin token: {TOKEN_VARIABLE} is not set and there is no {source} (the "
                "demo writes its own when `quoter run` starts in this folder; a desk's bot reads "
                "QUOTER_ADMIN_TOKEN or the [admin] token_file of the --config it runs on)"
            ) from None
        except OSError as error:
            raise AdminTokenError(
                f"no admin token: {TOKEN_VARIABLE} is not set and {source} cannot be read "
                f"({error.strerror})"
            ) from None
    if len(token) < MIN_TOKEN_CHARS:
        raise AdminTokenError(f"admin token from {source} is shorter than {MIN_TOKEN_CHARS}")
    return SecretStr(token)


def _refuse_if_shared(path: Path) -> None:
    """A token file others on the machine may read is a token they may use: refused."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise AdminTokenError(
            f"admin token file {path} is readable or writable by group or others "
            f"(mode {mode & 0o777:04o}); make it owner-only: chmod 600 {path}"
        )


def create_token_file(path: Path) -> SecretStr:
    """A fresh random token in a new file readable by its owner only (the demo's default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return SecretStr(token)
