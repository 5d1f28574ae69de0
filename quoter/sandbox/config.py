"""Configuration of the sandbox venue: where it binds, its usage plan, its market and its bounds."""

from __future__ import annotations

from pathlib import Path

from pydantic import AwareDatetime, Field, model_validator

from quoter.basics.frozen import Frozen
from quoter.basics.loopback import is_loopback
from quoter.venue.config import VenueCredentials


class MarketConfig(Frozen):
    """The simulated market: RFQ arrivals and how requesters behave."""

    enabled: bool = Field(True, description="generate RFQs; off for contract tests")
    arrivals_per_min: float = Field(2.0, gt=0, le=600, description="Poisson rate of new RFQs")
    open_at_start: int = Field(
        0, ge=0, le=50, description="RFQs already open when the market starts (the demo: 3)"
    )
    tick_s: float = Field(1.0, gt=0, le=60, description="sandbox seconds between market steps")
    deadline_min_s: float = Field(120.0, gt=0, description="shortest time to quote")
    deadline_max_s: float = Field(600.0, gt=0, description="longest time to quote")
    two_way_share: float = Field(0.25, ge=0, le=1)
    custom_share: float = Field(0.15, ge=0, le=1, description="share of power RFQs with a shape")
    cancel_share: float = Field(0.05, ge=0, le=1, description="RFQs the requester withdraws")
    no_competitor_share: float = Field(0.1, ge=0, le=1, description="RFQs only we may quote")
    max_catchup_s: float = Field(3600.0, gt=0, description="arrivals replayed after a jump")

    @model_validator(mode="after")
    def _deadlines_ordered(self) -> MarketConfig:
        if self.deadline_max_s < self.deadline_min_s:
            raise ValueError("deadline_max_s is below deadline_min_s")
        return self


class SandboxConfig(Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8642, ge=0, le=65535)
    seed: int = 7
    allow_remote: bool = Field(False, description="permit binding a non-loopback host")
    speed: float = Field(1.0, gt=0, le=3600, description="sandbox seconds per real second")
    start: AwareDatetime | None = Field(None, description="the sandbox clock's start; none: now")
    rate_per_s: float = Field(10.0, gt=0, description="usage plan: token bucket refill")
    burst: int = Field(100, gt=0, description="usage plan: token bucket size")
    daily_quota: int = Field(5000, gt=0, description="usage plan: requests per UTC day")
    credentials: VenueCredentials | None = Field(
        None, description="the one account accepted (throwaway sandbox values)"
    )
    use_env_credentials: bool = Field(False, description="take QUOTER_* from the environment")
    credentials_file: Path = Field(
        Path("var/sandbox-credentials.env"), description="where generated credentials are written"
    )
    max_rfqs: int = Field(5000, gt=0, description="stored RFQs; oldest finished evicted")
    max_quotes: int = Field(20000, gt=0, description="stored quotes; oldest finished evicted")
    max_trades: int = Field(5000, gt=0, description="stored trades; oldest evicted")
    max_body_bytes: int = Field(65536, gt=0, description="largest request body accepted")
    market: MarketConfig = MarketConfig()

    @model_validator(mode="after")
    def _loopback_unless_allowed(self) -> SandboxConfig:
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(f"host {self.host!r} is not loopback; set allow_remote to bind it")
        return self


__all__ = ["MarketConfig", "SandboxConfig"]
