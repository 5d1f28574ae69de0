"""A changed config file swaps the strategy (and the shadow) of the running bot: the file is
polled for a new mtime; a file that does not load, or a strategy that does not validate, is
audited and logged, and the strategy quoting goes on quoting."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from quoter.admin.swap import swap_shadow, swap_strategy
from quoter.basics.errors import ConfigError
from quoter.clock import Clock
from quoter.config import load_config
from quoter.engine.engine import Engine
from quoter.strategies_api import StrategyLoadError
from quoter.strategy_paths import use_strategy_folders

BY = "config file"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:  # being replaced, or gone: the next change is picked up
        return None
    return stat.st_mtime_ns, stat.st_size


async def watch_config(path: Path, engine: Engine, clock: Clock, poll_s: float) -> None:
    """Until cancelled: apply `[engine.strategy]` and `[engine.shadow]` whenever `path` changes.
    The first look applies it too (a no-op when it names what runs): an edit made while the bot
    was starting is not missed."""
    seen: tuple[int, int] | None = None
    while True:
        stamp = _stamp(path)
        if stamp is not None and stamp != seen:
            seen = stamp
            await apply_config(path, engine)
        await clock.sleep(poll_s)


async def apply_config(path: Path, engine: Engine) -> None:
    """Swap to what `path` names, if it differs from what runs now."""
    source = f"config {path}"
    try:
        loaded = load_config(path)
    except ConfigError as error:
        engine.swap_refused(engine.desk.strategy.name, str(error), by=BY, source=source)
        return
    use_strategy_folders(loaded.strategies)  # folders added to the file are searched from now
    config = loaded.engine
    desk = engine.desk
    wanted = config.strategy
    if (wanted.name, wanted.params) != (desk.strategy.name, desk.strategy.params):
        # A refusal is audited and logged by the swap; the old strategy goes on quoting.
        with suppress(StrategyLoadError):
            await swap_strategy(engine, wanted.name, wanted.params, by=BY, source=source)
    shadow = config.shadow
    running = None if desk.shadow is None else (desk.shadow.name, desk.shadow.params)
    if (None if shadow is None else (shadow.name, shadow.params)) != running:
        try:
            await swap_shadow(
                engine,
                None if shadow is None else shadow.name,
                {} if shadow is None else shadow.params,
                by=BY,
                source=source,
            )
        except StrategyLoadError as error:
            name = "(none)" if shadow is None else shadow.name
            engine.swap_refused(name, str(error), by=BY, source=f"{source} (shadow)")
