"""Strategy swaps, from the admin interface or a changed config file: the new strategy is
loaded and validated first, off the event loop; only then does the engine switch to it,
between two decisions. A strategy that fails to load leaves the old one quoting."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from quoter.admin import swap_record
from quoter.engine.engine import Engine
from quoter.engine.state import StrategySlot
from quoter.strategies_api import StrategyLoadError, load_strategy


async def load_slot(name: str, params: Mapping[str, object]) -> StrategySlot:
    """The strategy `name` built from `params`; StrategyLoadError names what is wrong.
    In a thread: loading may import a module, which the event loop should not wait for."""
    copied = dict(params)
    strategy = await asyncio.to_thread(load_strategy, name, copied)
    return StrategySlot(name, strategy, copied)


async def swap_strategy(
    engine: Engine, name: str, params: Mapping[str, object], *, by: str, source: str
) -> tuple[StrategySlot, StrategySlot]:
    """Load, validate, then swap; (old, new). A refusal is audited and raised."""
    try:
        slot = await load_slot(name, params)
    except StrategyLoadError as error:
        engine.swap_refused(name, str(error), by=by, source=source)
        raise
    old = engine.swap(slot, by=by, source=source)
    at = engine.deps.clock.now()
    swap_record.save(
        swap_record.record_path(engine.deps.config), name, slot.params, at=at, by=by, source=source
    )
    return old, slot


async def swap_shadow(
    engine: Engine, name: str | None, params: Mapping[str, object], *, by: str, source: str
) -> None:
    """Shadow-price with `name` (None: stop); a strategy that fails to load is raised."""
    slot = None if name is None else await load_slot(name, params)
    engine.shadow(slot, by=by, source=source)
