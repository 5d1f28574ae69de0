"""Configuration of the engine: quoting, polling, trading hours, automatic kills, strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from quoter.basics.frozen import Frozen
from quoter.engine.hours import TradingHoursConfig
from quoter.engine.planner import PollConfig
from quoter.trades.rows import SUFFIXES


class QuotingConfig(Frozen):
    min_time_to_deadline_s: float = Field(
        3.0, gt=0, description="decline an RFQ with less than this left before its deadline"
    )
    validity_s: float = Field(
        900.0, gt=0, description="a quote is valid this long, never past the RFQ's deadline"
    )
    refresh_margin_s: float = Field(
        10.0,
        gt=0,
        description="requote a live quote this long before it runs out, if its RFQ lasts longer",
    )
    requote_threshold_eur_mwh: float = Field(
        0.25, gt=0, description="requote a live quote when its price would move this much"
    )
    strategy_in_thread: bool = Field(
        True,
        description="evaluate strategies in a thread, cut off after strategy_timeout_s; "
        "backtests evaluate inline, where time is simulated and a thread hop is all overhead",
    )
    strategy_timeout_s: float = Field(
        0.5, gt=0, description="a strategy slower than this is cut off"
    )
    queue_size: int = Field(1000, gt=0, description="RFQs waiting to be priced; more are shed")
    workers: int = Field(4, gt=0, description="RFQs priced and sent concurrently")
    reconcile: Literal["withdraw", "adopt"] = Field(
        "withdraw", description="what a start does with quotes it finds live at the venue"
    )
    positions_since_days: int = Field(
        30,
        ge=0,
        description="a start rebuilds positions and credit use from the venue's trades this far "
        "back: long deliveries traded earlier are missed",
    )
    page_limit: int = Field(100, gt=0, le=100)
    max_pages_per_poll: int = Field(
        5, gt=0, description="a poll reads this many pages of changes; the next goes on from there"
    )
    max_pages_at_start: int = Field(
        50, gt=0, description="a start reads every open RFQ, in up to this many pages"
    )


class KillConfig(Frozen):
    """Automatic triggers: each halts quoting and withdraws every live quote."""

    latch_path: Path = Field(Path("var/kill-latch.json"))
    window: int = Field(50, gt=0, description="recent venue calls / decisions the rates look at")
    max_venue_error_rate: float = Field(0.5, gt=0, le=1)
    max_rate_limited: int = Field(
        3,
        gt=0,
        le=1000,
        description="429 Too Many Requests answers within a minute, retries included",
    )
    max_strategy_fault_rate: float = Field(0.2, gt=0, le=1)
    max_refusal_rate: float = Field(
        0.5, gt=0, le=1, description="share of recent quotes the venue refused (INVALID_QUOTE)"
    )
    max_clock_skew_s: float = Field(
        2.0, gt=0, description="our clock against the venue's timestamps: beyond, no new quotes"
    )
    stop_withdraw_timeout_s: float = Field(
        10.0,
        gt=0,
        le=60,
        description="at a stop: how long, from the stop, waiting for the answers of submits "
        "sent (half of it at most) and withdrawing every quote may take; a request to the venue "
        "still unanswered then is cut off",
    )


class DeadmanConfig(Frozen):
    """The dead-man's switch: a process beside the bot (`quoter run --config` starts it) that
    withdraws every live quote and latches a kill when the bot's heartbeat stops."""

    enabled: bool = Field(True, description="start it beside a bot quoting a configured venue")
    timeout_s: float = Field(3.0, gt=0, le=60, description="a heartbeat this old fires it")
    beat_s: float = Field(0.5, gt=0, description="how often the bot writes its heartbeat")
    heartbeat_path: Path = Field(Path("var/heartbeat.json"), description="written by the bot")
    sweep_timeout_s: float = Field(
        10.0, gt=0, description="how long its withdrawal goes on listing and withdrawing"
    )

    @model_validator(mode="after")
    def _beats_within_timeout(self) -> DeadmanConfig:
        if self.beat_s * 2 > self.timeout_s:
            raise ValueError("timeout_s must be at least two heartbeats (beat_s)")
        return self


class StrategyConfig(Frozen):
    name: str = Field("curve-spread", description="built-in name, entry point or module:attr")
    params: dict[str, JsonValue] = Field(default_factory=dict)


class EngineConfig(Frozen):
    quoting: QuotingConfig = QuotingConfig()
    poll: PollConfig = PollConfig()
    hours: TradingHoursConfig = TradingHoursConfig()
    kill: KillConfig = KillConfig()
    deadman: DeadmanConfig = DeadmanConfig()
    strategy: StrategyConfig = StrategyConfig()
    shadow: StrategyConfig | None = Field(
        None, description="a strategy priced beside the live one that sends nothing"
    )
    audit_dir: Path = Field(Path("var/audit"))
    audit_key_file: Path | None = Field(
        None,
        description="the key the trail is sealed with, unless QUOTER_AUDIT_KEY is set; owner-only, "
        "outside audit_dir, made on the first start (default: audit-key beside audit_dir)",
    )
    audit_anchor: Path | None = Field(
        None,
        description="the chain's head, outside audit_dir, replaced at every durable write "
        "(default: audit-anchor.json beside audit_dir)",
    )

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.audit_dir.parent / "audit-key"

    @property
    def audit_anchor_path(self) -> Path:
        return self.audit_anchor or self.audit_dir.parent / "audit-anchor.json"

    trades_file: Path | None = Field(
        Path("var/trades.parquet"),
        description="fills as learnt, the file `quoter trades export` completes (.csv or "
        ".parquet); false: off",
    )

    @field_validator("trades_file", mode="before")
    @classmethod
    def _trades_file(cls, value: object) -> object:
        """TOML has no null: `false` turns the trade file off. An empty name is refused (it
        would be the current folder), and so is a file neither CSV nor Parquet, here rather
        than when the bot starts."""
        if value is False or value is None:
            return None
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError("an empty name: name a .csv or .parquet file, or false for none")
        if isinstance(value, str | Path) and Path(value).suffix.lower() not in SUFFIXES:
            raise ValueError(f"{value}: the trade file must end in .csv or .parquet")
        return value
