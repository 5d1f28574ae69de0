"""The import rules, held: every module of quoter/ and strategies/ sits in a layer of README's
Layout and imports only from its own part or from layers below; the pure cores (strategies, the
pricing and risk cores, the strategy port's decision code) import no I/O, no asyncio and no
clock. Imports are read with `ast` from every module, function-level and TYPE_CHECKING ones
included: a type-only import is held to the same rule (sideways is still sideways)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = ("quoter", "strategies")

# Lowest first. A module may import its own part and any part of a lower rank; parts of one
# rank are independent of each other. The most specific prefix decides a module's part
# (`quoter` is the package's own __init__ only: its version).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("quoter", "quoter.basics", "quoter.clock", "quoter.strategy_names"),
    ("quoter.domain", "quoter.strategy_paths"),
    ("quoter.pricing", "quoter.timefmt"),
    ("quoter.risk", "quoter.strategies_api"),
    ("strategies",),
    ("quoter.venue",),
    ("quoter.audit", "quoter.trades", "quoter.sandbox"),
    ("quoter.engine",),
    ("quoter.config",),
    ("quoter.metrics", "quoter.admin"),
    ("quoter.backtest",),
    ("quoter.app",),
    ("quoter.commands",),
    ("quoter.cli",),
    ("quoter.__main__",),
)
# The configuration tree assembles every component's section: it may import each package's
# `config` module (the slice), provided the slice itself imports nothing above the tree.
TREE = "quoter.config"
# Imports that stay against the order, each with its reason.
KEPT: dict[tuple[str, str], str] = {
    ("quoter.engine.deadman", "quoter.config"): (
        "the dead-man's switch is its own process (`python -m quoter.engine.deadman`, as README "
        "documents it) and reads the bot's configuration file itself"
    ),
}
# Pure cores: values in, values out.
PURE = (
    "strategies",
    "quoter.pricing",
    "quoter.risk",
    "quoter.strategies_api.decision",
    "quoter.strategies_api.market",
    "quoter.strategies_api.evaluate",
)
# The pricing package's file readers are its edge, not I/O in this sense (no network, no
# processes, no clock): curve files are read from paths the configuration names.
BANNED = (
    "aiohttp",
    "socket",
    "http",
    "urllib",
    "subprocess",
    "sqlite3",
    "requests",
    "asyncio",
    "time",
    "quoter.clock",
)
CLOCK_CALLS = {"now", "utcnow", "today"}


@dataclass(frozen=True, slots=True)
class Import:
    source: str
    target: str
    line: int
    where: str


def modules(root: Path) -> dict[str, Path]:
    """Every module under the top packages of `root`, by dotted name."""
    found: dict[str, Path] = {}
    for top in TOP:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(name: str, path: Path) -> Iterator[Import]:
    """Every import in the module, at any depth, as the dotted names it may reach."""
    where = str(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno, where)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(name, path).split(".")
                anchor = ".".join(package[: len(package) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                yield Import(name, f"{base}.{alias.name}", node.lineno, where)


def _resolve(target: str, known: dict[str, Path]) -> str | None:
    while target not in known:
        if "." not in target:
            return None
        target = target.rpartition(".")[0]
    return target


def part_of(name: str) -> tuple[int, str] | None:
    """(rank, part) of a module: the longest prefix in LAYERS."""
    best: tuple[int, str] | None = None
    for rank, parts in enumerate(LAYERS):
        for part in parts:
            matches = name == part or (part != "quoter" and name.startswith(part + "."))
            if matches and (best is None or len(part) > len(best[1])):
                best = (rank, part)
    return best


def _is_slice(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and parts[0] == "quoter" and parts[2] == "config"


def layer_violations(root: Path) -> list[str]:
    known = modules(root)
    tree_rank = (part_of(TREE) or (0, ""))[0]
    found: list[str] = []
    for name, path in known.items():
        mine = part_of(name)
        if mine is None:
            found.append(f"{path}: {name} is in no layer: place it in LAYERS")
            continue
        for imp in imports(name, path):
            target = _resolve(imp.target, known)
            theirs = None if target is None else part_of(target)
            if target is None or theirs is None or theirs[1] == mine[1]:
                continue
            if (name, target) in KEPT or (name, theirs[1]) in KEPT:
                continue
            if name == TREE and _is_slice(target):
                continue
            if _is_slice(name) and theirs[0] >= tree_rank and mine[0] > tree_rank:
                found.append(
                    f"{imp.where}:{imp.line}: {name} (a configuration slice the tree imports) "
                    f"imports {target}, not below {TREE}"
                )
            elif theirs[0] > mine[0]:
                found.append(f"{imp.where}:{imp.line}: {name} imports {target}, a higher layer")
            elif theirs[0] == mine[0]:
                found.append(
                    f"{imp.where}:{imp.line}: {name} imports {target} sideways "
                    f"({mine[1]} and {theirs[1]} share a layer)"
                )
    return found


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def purity_violations(root: Path) -> list[str]:
    found: list[str] = []
    for name, path in modules(root).items():
        if not any(name == p or name.startswith(p + ".") for p in PURE):
            continue
        for imp in imports(name, path):
            target = imp.target
            # `from datetime import time` is the type, not the module.
            if target.startswith("datetime."):
                continue
            if any(target == b or target.startswith(b + ".") for b in BANNED):
                found.append(f"{imp.where}:{imp.line}: {name} (a pure core) imports {target}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
                and _receiver(node.func.value) in {"datetime", "date"}
            ):
                found.append(
                    f"{path}:{node.lineno}: {name} (a pure core) reads the clock "
                    f"({_receiver(node.func.value)}.{node.func.attr}())"
                )
    return found


def test_every_module_imports_only_its_own_layer_or_below() -> None:
    assert layer_violations(ROOT) == []


def test_the_pure_cores_import_no_io_no_asyncio_no_clock() -> None:
    assert purity_violations(ROOT) == []


def test_every_kept_exception_is_still_needed() -> None:
    known = modules(ROOT)
    for source, target in KEPT:
        reached = {_resolve(i.target, known) for i in imports(source, known[source])}
        assert target in reached, f"{source} no longer imports {target}: drop it from KEPT"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for parent in path.relative_to(root).parents:
            if parent != Path(".") and not (root / parent / "__init__.py").exists():
                (root / parent / "__init__.py").write_text("")
    return root


def test_an_import_of_a_higher_layer_is_flagged(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/engine/state.py": "X = 1\n",
            "quoter/venue/port.py": "def f() -> None:\n    from quoter.engine.state import X\n",
        },
    )
    assert layer_violations(root) == [
        f"{root}/quoter/venue/port.py:2: quoter.venue.port imports quoter.engine.state, "
        "a higher layer"
    ]


def test_a_type_checking_import_is_held_too(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/engine/state.py": "X = 1\n",
            "quoter/pricing/curve.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from quoter.engine import state\n"
            ),
        },
    )
    assert [v.split(": ", 1)[1] for v in layer_violations(root)] == [
        "quoter.pricing.curve imports quoter.engine.state, a higher layer"
    ]


def test_a_sideways_import_is_flagged(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/strategies_api/market.py": "X = 1\n",
            "quoter/risk/checks.py": "from quoter.strategies_api.market import X\n",
        },
    )
    assert [v.split(": ", 1)[1] for v in layer_violations(root)] == [
        "quoter.risk.checks imports quoter.strategies_api.market sideways "
        "(quoter.risk and quoter.strategies_api share a layer)"
    ]


def test_a_relative_import_is_resolved(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/venue/http.py": "X = 1\n",
            "quoter/domain/rfq.py": "from ..venue import http\n",
        },
    )
    assert [v.split(": ", 1)[1] for v in layer_violations(root)] == [
        "quoter.domain.rfq imports quoter.venue.http, a higher layer"
    ]


def test_a_module_outside_every_layer_is_flagged(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"quoter/newpart/thing.py": "X = 1\n"})
    assert [v.split(": ", 1)[1] for v in layer_violations(root)] == [
        "quoter.newpart is in no layer: place it in LAYERS",
        "quoter.newpart.thing is in no layer: place it in LAYERS",
    ]


def test_the_tree_may_import_slices_but_a_slice_may_not_reach_above_it(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/config.py": "from quoter.admin.config import AdminConfig\n",
            "quoter/admin/config.py": "from quoter.admin.server import S\nAdminConfig = 1\n",
            "quoter/admin/server.py": "S = 1\n",
            "quoter/metrics/config.py": "from quoter.admin.server import S\n",
        },
    )
    assert [v.split(": ", 1)[1] for v in layer_violations(root)] == [
        "quoter.metrics.config (a configuration slice the tree imports) imports "
        "quoter.admin.server, not below quoter.config"
    ]


def test_io_asyncio_and_the_clock_in_a_pure_core_are_flagged(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "quoter/clock.py": "X = 1\n",
            "quoter/pricing/curve.py": (
                "import asyncio\nfrom datetime import datetime, time\n"
                "def f() -> object:\n    import aiohttp.web\n    return datetime.now()\n"
            ),
            "quoter/risk/checks.py": "import time\nfrom quoter.clock import X\n",
            "strategies/mine.py": "import datetime\nd = datetime.date.today()\n",
            "quoter/strategies_api/decision.py": "from urllib.request import urlopen\n",
            "quoter/strategies_api/loader.py": "import asyncio\n",  # not a pure core
        },
    )
    assert sorted(v.split(": ", 1)[1] for v in purity_violations(root)) == [
        "quoter.pricing.curve (a pure core) imports aiohttp.web",
        "quoter.pricing.curve (a pure core) imports asyncio",
        "quoter.pricing.curve (a pure core) reads the clock (datetime.now())",
        "quoter.risk.checks (a pure core) imports quoter.clock.X",
        "quoter.risk.checks (a pure core) imports time",
        "quoter.strategies_api.decision (a pure core) imports urllib.request.urlopen",
        "strategies.mine (a pure core) reads the clock (date.today())",
    ]
