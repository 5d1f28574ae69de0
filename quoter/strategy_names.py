"""The names a strategy is known by without loading one: the built-ins and the entry points.
Light on purpose (no pricing, no numpy): `quoter kill --strategy` checks a name against them
before it sends anything."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ENTRY_POINT_GROUP = "quoter.strategies"
BUILT_IN: Mapping[str, str] = {
    "curve_spread": "strategies.curve_spread:CurveSpread",
    "inventory_skew": "strategies.inventory_skew:InventorySkew",
    "win_curve": "strategies.win_curve:WinCurve",
}


def strategy_key(name: str) -> str:
    """One strategy's identity whatever its spelling: the loader takes `curve-spread` for
    `curve_spread`, and a desk typing under stress may not match the case."""
    return name.casefold().replace("-", "_")


def known_strategies(configured: Iterable[str | None] = ()) -> list[str]:
    """Every strategy name this installation knows, each once: `configured` first (the names the
    engine runs under, spelt as it compares them), then the built-ins, then the entry points."""
    from importlib.metadata import entry_points  # scans every installed package: when asked

    names = [n for n in configured if n]
    names += [*BUILT_IN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))]
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(strategy_key(name), name)
    return list(seen.values())
