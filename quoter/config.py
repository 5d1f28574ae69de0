"""The one configuration tree: loaded from TOML, validated at start-up, frozen, secrets from the
environment. Each component is handed its own section."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from quoter.admin.config import AdminConfig
from quoter.basics.errors import ConfigError
from quoter.basics.frozen import Frozen
from quoter.engine.config import EngineConfig
from quoter.metrics.config import MetricsConfig
from quoter.pricing.config import CurvesConfig
from quoter.risk.config import RiskConfig
from quoter.sandbox.config import SandboxConfig
from quoter.strategy_paths import CONFIG_DIR, StrategiesConfig
from quoter.venue.config import VenueConfig

M = TypeVar("M", bound=BaseModel)


class QuoterConfig(Frozen):
    venue: VenueConfig = VenueConfig()
    sandbox: SandboxConfig = SandboxConfig()
    curves: CurvesConfig = CurvesConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    engine: EngineConfig = EngineConfig()
    risk: RiskConfig | None = None
    metrics: MetricsConfig = MetricsConfig()
    admin: AdminConfig = AdminConfig()


# The demo's state, apart from any desk's: a desk's configuration names its own files.
DEMO_STATE = Path("var/demo")


def demo_config() -> QuoterConfig:
    """The demo's configuration (no `--config`): the defaults, with every state file (audit
    trail, key and anchor, quota ledger, kill latch, heartbeat, trades, admin token) under
    var/demo/, so the demo never writes into the files a real run uses."""
    base = QuoterConfig()
    engine, plan = base.engine, base.venue.usage_plan
    engine = engine.model_copy(
        update={
            "audit_dir": DEMO_STATE / "audit",
            "trades_file": DEMO_STATE / "trades.parquet",
            "kill": engine.kill.model_copy(update={"latch_path": DEMO_STATE / "kill-latch.json"}),
            "deadman": engine.deadman.model_copy(
                update={"heartbeat_path": DEMO_STATE / "heartbeat.json"}
            ),
        }
    )
    plan = plan.model_copy(update={"ledger_path": DEMO_STATE / "quota-ledger.json"})
    return base.model_copy(
        update={
            "engine": engine,
            "venue": base.venue.model_copy(update={"usage_plan": plan}),
            "admin": base.admin.model_copy(update={"token_file": DEMO_STATE / "admin-token"}),
        }
    )


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"  {_problem(item)}" for item in error.errors()]
    return f"{source}: invalid configuration\n" + "\n".join(lines)


def _problem(item: ErrorDetails) -> str:
    """One problem of a configuration: where, and what is wrong there."""
    where = ".".join(str(part) for part in item["loc"]) or "(top level)"
    what = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
    return f"{where}: {what}"


def parse_config(
    data: Mapping[str, object], source: str = "<config>", config_dir: Path | None = None
) -> QuoterConfig:
    """`data` validated; every relative path in it is taken from `config_dir` (see
    `from_config_dir`)."""
    try:
        config = QuoterConfig.model_validate(data, context={CONFIG_DIR: config_dir})
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None
    return config if config_dir is None else from_config_dir(config, config_dir)


def from_config_dir(config: M, base: Path) -> M:
    """`config` with every relative path it holds (the state files: audit trail, key and
    anchor, quota ledger, kill latch, heartbeat, trades, admin token; the curves; the
    sandbox's credentials file), given or defaulted, taken from `base`, the configuration
    file's folder: every command reading the file finds the same files from any working
    directory. `quoter kill --config /desk/desk.toml` run from elsewhere latched its kill in
    a var/ of its own that a restarted bot never read."""
    update: dict[str, object] = {}
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, Path) and not value.is_absolute():
            update[name] = base / value
        elif isinstance(value, BaseModel):
            moved = from_config_dir(value, base)
            if moved is not value:
                update[name] = moved
    return config.model_copy(update=update) if update else config


def load_config(path: Path | None) -> QuoterConfig:
    """The configuration in `path`, or the demo's (the built-in sandbox) when there is none."""
    if path is None:
        return demo_config()
    return parse_config(read_toml(path), str(path), path.absolute().parent)


def load_config_for(path: Path | None, needed: tuple[str, ...]) -> tuple[QuoterConfig, list[str]]:
    """The configuration in `path` with what does not validate left out, for a command that
    must work on a file someone has since broken (`quoter kill`): every key a problem is at is
    dropped (and the table holding it, if it then lacks a key it needs) and the rest validated
    again; a problem within one of the `needed` dotted prefixes (where the bot listens, where
    its latch is), or a file that is no TOML, is refused as `load_config` refuses it. Returns
    the configuration and each problem left out, as `load_config` would have said it."""
    try:
        return load_config(path), []
    except ConfigError:
        if path is None:
            raise
    data = read_toml(path)
    left_out: list[str] = []
    for _ in range(MAX_LENIENT_PASSES):
        try:
            config = QuoterConfig.model_validate(data, context={CONFIG_DIR: path.parent})
            return from_config_dir(config, path.absolute().parent), left_out
        except ValidationError as error:
            for item in error.errors():
                where = [str(part) for part in item["loc"]]
                dotted = ".".join(where)
                if any(dotted == n or dotted.startswith(n + ".") for n in needed) or not where:
                    raise ConfigError(_describe(error, str(path))) from None
                left_out.append(_problem(item))
                _drop(data, where[:-1] if item["type"] == "missing" else where)
    return parse_config(
        data, str(path), path.absolute().parent
    ), left_out  # what is left, or why not


MAX_LENIENT_PASSES = 20


def _drop(data: dict[str, Any], where: list[str]) -> None:
    """Remove the deepest key of `where` that `data` holds (a step pydantic adds, such as a
    union's member, is not one)."""
    node: Any = data
    parent: dict[str, Any] | None = None
    key = ""
    for step in where:
        if not (isinstance(node, dict) and step in node):
            break
        parent, key, node = node, step, node[step]
    if parent is not None:
        del parent[key]


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML in `path`; ConfigError naming the file if it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def require_risk(config: QuoterConfig, source: str) -> RiskConfig:
    """The desk's limits; quoting against a configured venue without them refuses to start."""
    if config.risk is None:
        raise ConfigError(f"{source}: no [risk] section: every limit must be stated to quote")
    return config.risk


def check_strategies(config: QuoterConfig, source: str) -> None:
    """Load `[engine.strategy]` and `[engine.shadow]` once, so that a bad name or parameter is
    a ConfigError naming the file and the key before anything starts. Not in load_config:
    `quoter kill` reads the configuration and must not import a desk's strategy modules."""
    from quoter.strategies_api import StrategyLoadError, load_strategy

    for key, strategy in (
        ("engine.strategy", config.engine.strategy),
        ("engine.shadow", config.engine.shadow),
    ):
        if strategy is None:
            continue
        try:
            load_strategy(strategy.name, strategy.params)
        except StrategyLoadError as error:
            raise ConfigError(f"{source}: invalid configuration\n  {key}: {error}") from None
