"""Configuration of the sandbox venue."""

from __future__ import annotations

from pydantic import Field

from quoter.venue.config import Frozen


class SandboxConfig(Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8642, ge=0, le=65535)
    seed: int = 7
