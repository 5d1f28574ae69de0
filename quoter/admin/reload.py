"""A changed config file swaps the strategy (and the shadow) of the running bot: the file is
polled for a new mtime; a file that does not load, or a strategy that does not validate, is
audited and logged, and the strategy quoting goes on quoting.

The file swaps only when what it names changes: an edit elsewhere in it (a comment, a limit)
leaves a strategy swapped in by `quoter swap` quoting. The other sections apply at the next
start; an edit to them is said in the log as the file is read, not taken in silence."""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from quoter.admin.swap import swap_shadow, swap_strategy
from quoter.basics.errors import ConfigError
from quoter.clock import Clock
from quoter.config import QuoterConfig, load_config
from quoter.engine.engine import Engine
from quoter.strategies_api import StrategyLoadError
from quoter.strategy_paths import use_strategy_folders

BY = "config file"

log = logging.getLogger(__name__)

Named = tuple[str, dict[str, object]] | None  # a strategy section as the file names it


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:  # being replaced, or gone: the next change is picked up
        return None
    return stat.st_mtime_ns, stat.st_size


async def watch_config(path: Path, engine: Engine, clock: Clock, poll_s: float) -> None:
    """Until cancelled: apply `[engine.strategy]` and `[engine.shadow]` whenever `path` changes
    what they name. The first look applies them too (a no-op when they name what runs): an
    edit made while the bot was starting is not missed."""
    seen: tuple[int, int] | None = None
    read = FileRead()
    while True:
        stamp = _stamp(path)
        if stamp is not None and stamp != seen:
            seen = stamp
            await apply_config(path, engine, read)
        await clock.sleep(poll_s)


@dataclass(slots=True)
class FileRead:
    """What the file said when last read: the strategy and shadow it named (applied or
    refused) and the rest of it as the bot started with it."""

    started: QuoterConfig | None = None  # None until the first read
    strategy: Named = None
    shadow: Named = None


async def apply_config(path: Path, engine: Engine, read: FileRead) -> None:
    """Swap to what `path` names, if the file names something else than at its last read
    (at the first read: than what runs now)."""
    source = f"config {path}"
    try:
        loaded = load_config(path)
    except ConfigError as error:
        engine.swap_refused(engine.desk.strategy.name, str(error), by=BY, source=source)
        return
    use_strategy_folders(loaded.strategies)  # folders added to the file are searched from now
    first = read.started is None
    _say_unapplied(path, read, loaded)
    config = loaded.engine
    desk = engine.desk
    wanted = config.strategy
    named: Named = (wanted.name, dict(wanted.params))
    if (first or named != read.strategy) and named != (desk.strategy.name, desk.strategy.params):
        # A refusal is audited and logged by the swap; the old strategy goes on quoting.
        with suppress(StrategyLoadError):
            await swap_strategy(engine, wanted.name, wanted.params, by=BY, source=source)
    read.strategy = named
    shadow = config.shadow
    named = None if shadow is None else (shadow.name, dict(shadow.params))
    running = None if desk.shadow is None else (desk.shadow.name, desk.shadow.params)
    if (first or named != read.shadow) and named != running:
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
    read.shadow = named


def _say_unapplied(path: Path, read: FileRead, loaded: QuoterConfig) -> None:
    """Sections edited since the start that only a restart applies: said, not ignored."""
    if read.started is None:
        read.started = loaded
        return
    edited = [
        f"[{name}]"
        for name in _sections(loaded)
        if _section(loaded, name) != _section(read.started, name)
    ]
    if edited:
        log.warning(
            "config %s: %s changed since the start: not applied until the bot is restarted "
            "(only [engine.strategy] and [engine.shadow] apply while it runs)",
            path,
            ", ".join(edited),
        )


def _sections(config: QuoterConfig) -> list[str]:
    return [name for name in type(config).model_fields if name != "strategies"]


def _section(config: QuoterConfig, name: str) -> object:
    value = getattr(config, name)
    if name == "engine":  # its strategy and shadow apply while running
        return value.model_dump(exclude={"strategy", "shadow"})
    return None if value is None else value.model_dump()
