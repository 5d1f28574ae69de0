"""The pricing core and the strategies stay pure: no I/O, clock, network or logging imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PURE = [
    ROOT / "quoter/pricing/delivery.py",
    ROOT / "quoter/pricing/valuation.py",
    ROOT / "quoter/pricing/reasons.py",
    ROOT / "quoter/strategies_api/decision.py",
    ROOT / "quoter/strategies_api/market.py",
    ROOT / "quoter/strategies_api/evaluate.py",
    *sorted((ROOT / "strategies").glob("*.py")),
]
BANNED = {"os", "asyncio", "aiohttp", "logging", "time", "socket", "quoter.clock", "pathlib"}


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert not {m for m in imported if m in BANNED or m.split(".")[0] in BANNED}
