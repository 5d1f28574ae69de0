"""Configuration of the metrics endpoint: on, on loopback, unless stated otherwise."""

from __future__ import annotations

from pydantic import Field, model_validator

from quoter.basics.frozen import Frozen
from quoter.basics.loopback import is_loopback


class MetricsConfig(Frozen):
    enabled: bool = Field(True, description="serve /metrics while quoting")
    host: str = Field("127.0.0.1", description="address to bind (loopback unless allow_remote)")
    port: int = Field(9464, ge=0, le=65535, description="0: any free port")
    allow_remote: bool = Field(False, description="permit binding a non-loopback host")
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="names a scrape may give as its Host (with the port), besides the loopback "
        "names and `host`: the name Prometheus scrapes by, e.g. a compose service name",
    )

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> MetricsConfig:
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(f"host {self.host!r} is not loopback; set allow_remote to bind it")
        return self
