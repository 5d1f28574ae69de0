"""One wiring of the engine: `quoter.engine.build.build_engine` is the only place that builds an
`Engine`, its `EngineDeps` or its `Desk` (read with `ast` from every module of the package, the
tests and the benchmarks), so `quoter run`, the replay, the benchmarks and the tests run one
engine."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SEARCHED = ("quoter", "strategies", "tests", "benchmarks")
WIRING = "quoter/engine/build.py"
BUILT = frozenset({"Engine", "EngineDeps", "Desk"})
MODULES = frozenset({"quoter.engine.engine", "quoter.engine.state", "quoter.engine.desk"})
DEFINED = frozenset(f"{m.replace('.', '/')}.py" for m in MODULES)
# The engine's state built without an engine, each with its reason.
KEPT = {
    "benchmarks/bench_metrics.py": (
        "the collector's benchmark fills a desk with a busy day's figures and never runs an "
        "engine or calls a venue; its quota is a stub of its own"
    ),
}


def context_builders(root: Path) -> list[str]:
    """`path:line` of every call of the engine's `Engine(...)`, `EngineDeps(...)` or
    `Desk(...)` under `root`'s searched folders (by the names a module imports them as: other
    classes of the same name, such as the crash tests' `Desk`, are not the engine's)."""
    found: list[str] = []
    for top in SEARCHED:
        for path in sorted((root / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            local = _engine_names(tree, path, root)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else None
                if name in local or (isinstance(func, ast.Attribute) and func.attr in BUILT):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def _engine_names(tree: ast.Module, path: Path, root: Path) -> set[str]:
    """The names the engine's state types go by in this module: imported, or defined here."""
    names: set[str] = set()
    if path.relative_to(root).as_posix() in DEFINED:
        names |= BUILT
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in MODULES:
            names |= {a.asname or a.name for a in node.names if a.name in BUILT}
    return names


@cache
def builders_in_this_checkout() -> tuple[str, ...]:
    """`context_builders(ROOT)`, read once for the tests below (the checkout does not change
    during a session: the suite's guard fails one that changes it)."""
    return tuple(context_builders(ROOT))


def test_only_build_engine_builds_the_engines_state() -> None:
    outside = [
        where
        for where in builders_in_this_checkout()
        if where.rsplit(":", 1)[0] not in {WIRING, *KEPT}
    ]
    assert outside == [], "build the engine with quoter.engine.build.build_engine"


def test_every_kept_builder_still_builds_one() -> None:
    files = {where.rsplit(":", 1)[0] for where in builders_in_this_checkout()}
    assert WIRING in files
    for kept in KEPT:
        assert kept in files, f"{kept} no longer builds the engine's state: drop it from KEPT"
