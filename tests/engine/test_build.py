"""One wiring of the engine: `quoter.engine.build.build_engine` is the only place that builds an
`EngineContext` (read with `ast` from every module of the package, the tests and the
benchmarks), so `quoter run`, the replay, the benchmarks and the tests run one engine."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SEARCHED = ("quoter", "strategies", "tests", "benchmarks")
WIRING = "quoter/engine/build.py"
# Contexts built without an engine, each with its reason.
KEPT = {
    "benchmarks/bench_metrics.py": (
        "the collector's benchmark fills a context with a busy day's figures and never runs an "
        "engine or calls a venue; its quota is a stub of its own"
    ),
}


def context_builders(root: Path) -> list[str]:
    """`path:line` of every call of `EngineContext(...)` under `root`'s searched folders."""
    found: list[str] = []
    for top in SEARCHED:
        for path in sorted((root / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "EngineContext":
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_only_build_engine_builds_the_engines_context() -> None:
    outside = [
        where for where in context_builders(ROOT) if where.rsplit(":", 1)[0] not in {WIRING, *KEPT}
    ]
    assert outside == [], "build the engine with quoter.engine.build.build_engine"


def test_every_kept_builder_still_builds_one() -> None:
    files = {where.rsplit(":", 1)[0] for where in context_builders(ROOT)}
    assert WIRING in files
    for kept in KEPT:
        assert kept in files, f"{kept} no longer builds an EngineContext: drop it from KEPT"
