"""What a kill covers, and the check at its door: areas, products and strategies spelt as the
venue and the configuration spell them, whatever the case the desk typed; an unknown value is
refused, since a kill that covers nothing reports success while the bot quotes on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from quoter.domain.market import AREAS, ProductType
from quoter.strategy_names import strategy_key

KNOWN_AREAS: tuple[str, ...] = tuple(sorted(a for areas in AREAS.values() for a in areas))
KNOWN_PRODUCTS: tuple[str, ...] = tuple(p.value for p in ProductType)


class ScopeError(ValueError):
    """A kill's scope names an area, product or strategy nobody knows; the message names each
    and lists the known ones."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What a kill covers; an empty dimension covers everything on it."""

    areas: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    strategies: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return not (self.areas or self.products or self.strategies)

    def to_json(self) -> dict[str, list[str]]:
        return {
            "areas": sorted(self.areas),
            "products": sorted(self.products),
            "strategies": sorted(self.strategies),
        }

    def covers(self, area: str, product: str, strategy: str) -> bool:
        # Strategies by key: the engine runs one under the name it was configured with
        # (`curve-spread`), and a kill names it as the loader does (`curve_spread`).
        return (
            (not self.areas or area in self.areas)
            and (not self.products or product in self.products)
            and (
                not self.strategies
                or strategy_key(strategy) in {strategy_key(s) for s in self.strategies}
            )
        )


def canonical_scope(
    areas: Iterable[str],
    products: Iterable[str],
    strategies: Iterable[str],
    known_strategies: Callable[[], Iterable[str]],
) -> Scope:
    """The scope spelt as the venue (areas, products) and the engine (strategies) spell it,
    matched whatever the case; ScopeError naming every unknown value and the known ones.
    `known_strategies` is called only when strategies are named (it reads the installed
    packages)."""
    wanted = list(strategies)
    dimensions = [
        ("area", list(areas), KNOWN_AREAS, str.casefold),
        ("product", list(products), KNOWN_PRODUCTS, str.casefold),
        ("strategy", wanted, tuple(known_strategies()) if wanted else (), strategy_key),
    ]
    found: list[frozenset[str]] = []
    problems: list[str] = []
    for what, given, known, key in dimensions:
        spelling = {key(k): k for k in reversed(known)}  # the first spelling of a key wins
        unknown = [g for g in given if key(g) not in spelling]
        if unknown:
            names = ", ".join(repr(u) for u in unknown)
            problems.append(f"unknown {what} {names} (known: {', '.join(known)})")
        found.append(frozenset(spelling[key(g)] for g in given if key(g) in spelling))
    if problems:
        raise ScopeError("; ".join(problems))
    return Scope(*found)


def describe_scope(scope: Mapping[str, Iterable[str]]) -> str:
    """`everything`, or `areas DE; products month`: a scope as `Scope.to_json` writes it."""
    parts = [
        f"{name} {', '.join(sorted(values))}"
        for name in ("areas", "products", "strategies")
        if (values := list(scope.get(name, ())))
    ]
    return "; ".join(parts) or "everything"
