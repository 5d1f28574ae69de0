"""Configuration of the venue connection and of the client's usage-plan guard."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from quoter.basics.errors import ConfigError
from quoter.basics.frozen import Frozen
from quoter.basics.loopback import is_loopback


class UsagePlanConfig(Frozen):
    """The venue's plan (soft limits that differ per customer) and the share we keep below it."""

    rate_per_s: float = Field(10.0, gt=0, description="the venue's refill rate")
    burst: int = Field(100, gt=0, description="the venue's bucket size")
    daily_quota: int = Field(5000, gt=0, description="requests per UTC day")
    headroom: float = Field(
        0.9, gt=0, le=1, description="share of rate and burst the client allows itself"
    )
    withdraw_reserve_burst: int = Field(20, ge=0, description="burst kept for withdrawals")
    withdraw_reserve_daily: int = Field(250, ge=0, description="daily quota kept for withdrawals")
    submit_reserve_burst: int = Field(10, ge=0, description="burst kept from polling for quotes")
    submit_reserve_daily: int = Field(500, ge=0, description="daily quota kept from polling")
    ledger_path: Path = Field(
        Path("var/quota-ledger.json"), description="where the day's spent requests are kept"
    )

    @model_validator(mode="after")
    def _reserves_fit(self) -> UsagePlanConfig:
        burst = int(self.burst * self.headroom)
        if self.withdraw_reserve_burst + self.submit_reserve_burst >= burst:
            raise ValueError(f"burst reserves leave nothing for polling out of {burst}")
        if self.withdraw_reserve_daily + self.submit_reserve_daily >= self.daily_quota:
            raise ValueError("daily reserves leave nothing for polling")
        return self

    def beside_the_bot(self) -> UsagePlanConfig:
        """The plan of a tool that may run while the bot quotes on the same key (quoter trades
        export, quoter backtest record): half the share of rate and burst the bot leaves below
        the venue's (1 - headroom), so the two together stay under it with a margin for the
        two clocks; the day's count is shared through the ledger, and the bot's daily reserves
        stay kept from the tool. With the default plan: 0.5 requests/s, a burst of 5."""
        share = round((1.0 - self.headroom) / 2, 9)  # 0.05, not 0.0499999...
        if int(self.burst * share) < 1:
            raise ValueError(
                f"usage_plan.headroom is {self.headroom:g}: it leaves no share of the venue's "
                "rate for a tool beside the bot; lower it (0.9 leaves it a twentieth)"
            )
        update = {"headroom": share, "withdraw_reserve_burst": 0, "submit_reserve_burst": 0}
        return UsagePlanConfig.model_validate({**self.model_dump(), **update})


class VenueConfig(Frozen):
    """Where the venue is and how to talk to it. Credentials come from the environment only."""

    base_url: str = Field("http://127.0.0.1:8642", description="scheme, host and port")
    allow_http: bool = Field(
        False,
        description="permit http:// to a host that is not loopback (a sandbox on a private "
        "network); the credentials and token then cross it in clear",
    )
    api_prefix: Literal["/v2.0", "/v2.1", "/v2.2"] = "/v2.2"
    request_timeout_s: float = Field(5.0, gt=0)
    connect_timeout_s: float = Field(2.0, gt=0)
    max_connections: int = Field(8, gt=0)
    read_retries: int = Field(3, ge=0)
    submit_retries: int = Field(2, ge=0)
    backoff_base_s: float = Field(0.2, gt=0)
    backoff_max_s: float = Field(5.0, gt=0)
    max_retry_after_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="longest a 429's Retry-After holds every request (withdrawals too); "
        "one asking longer is held this long and logged",
    )
    max_response_bytes: int = Field(5_000_000, gt=0, description="larger bodies are refused")
    max_page_items: int = Field(100, gt=0, le=1000, description="largest page asked or accepted")
    token_renew_margin_s: float = Field(
        60.0, ge=0, description="renew a token this long before its expiry"
    )
    usage_plan: UsagePlanConfig = UsagePlanConfig()

    @model_validator(mode="after")
    def _secure_unless_loopback(self) -> VenueConfig:
        try:
            url = urlsplit(self.base_url)
            url.port  # noqa: B018 -- raises on a port that is not a number in range
        except ValueError as error:
            raise ValueError(f"base_url {self.base_url!r} is not a URL: {error}") from None
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ValueError(f"base_url {self.base_url!r} must be https://host[:port]")
        if url.path not in ("", "/") or url.query or url.fragment:
            raise ValueError(f"base_url {self.base_url!r}: scheme, host and port only")
        if url.scheme == "http" and not self.allow_http and not is_loopback(url.hostname):
            raise ValueError(
                f"base_url {self.base_url!r}: http:// only to a loopback venue (credentials "
                "would cross the network in clear); use https://, or set allow_http"
            )
        return self

    def beside_the_bot(self) -> VenueConfig:
        """This venue for a tool run beside the bot: see `UsagePlanConfig.beside_the_bot`."""
        return self.model_copy(update={"usage_plan": self.usage_plan.beside_the_bot()})


class VenueCredentials(Frozen):
    """Secrets, read from QUOTER_CLIENT_ID, QUOTER_CLIENT_SECRET and QUOTER_API_KEY."""

    client_id: SecretStr
    client_secret: SecretStr
    api_key: SecretStr


CREDENTIAL_VARIABLES = {
    "client_id": "QUOTER_CLIENT_ID",
    "client_secret": "QUOTER_CLIENT_SECRET",
    "api_key": "QUOTER_API_KEY",
}


def load_credentials(environ: Mapping[str, str] | None = None) -> VenueCredentials:
    """Credentials from the environment; a missing one is named, its value never shown."""
    env = os.environ if environ is None else environ
    missing = [var for var in CREDENTIAL_VARIABLES.values() if not env.get(var)]
    if missing:
        raise ConfigError("missing credentials in the environment: " + ", ".join(missing))
    return VenueCredentials.model_validate(
        {field: env[var] for field, var in CREDENTIAL_VARIABLES.items()}
    )
