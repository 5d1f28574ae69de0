"""The one account the sandbox accepts: from its configuration, from the environment, or drawn
afresh; and the 0600 file that hands drawn credentials to a client without printing them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from quoter.sandbox.config import SandboxConfig
from quoter.venue.config import CREDENTIAL_VARIABLES, VenueCredentials, load_credentials


class CredentialSource(StrEnum):
    CONFIG = "configuration"
    ENVIRONMENT = "environment"
    GENERATED = "generated"


def generate_credentials() -> VenueCredentials:
    return VenueCredentials.model_validate(
        {
            "client_id": "sandbox-" + secrets.token_hex(4),
            "client_secret": secrets.token_urlsafe(24),
            "api_key": secrets.token_urlsafe(30),
        }
    )


def resolve_credentials(
    config: SandboxConfig, environ: Mapping[str, str] | None = None
) -> tuple[VenueCredentials, CredentialSource]:
    if config.credentials is not None:
        return config.credentials, CredentialSource.CONFIG
    if config.use_env_credentials:
        return load_credentials(environ), CredentialSource.ENVIRONMENT
    return generate_credentials(), CredentialSource.GENERATED


def write_env_file(credentials: VenueCredentials, path: Path) -> None:
    """`export QUOTER_...=` lines, readable by the owner only (created 0600, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"export {variable}={getattr(credentials, field).get_secret_value()}\n"
        for field, variable in CREDENTIAL_VARIABLES.items()
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
