"""The commands a desk uses under stress start without the backtest's stack: each runs in a
fresh interpreter, all the way through, and the modules it loaded are read back."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import quoter.commands
from quoter.cli import COMMANDS
from tests.admin.harness import bot_config

HEAVY = ("pandas", "numpy", "matplotlib", "dask", "pyarrow", "aiohttp", "quoter.backtest")

# Runs `quoter ARGS` in-process, then prints every module it loaded.
PROBE = """
import json, sys
from quoter.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _loaded(*args: str, env: dict[str, str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    return answer["code"], set(answer["modules"])


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "args",
    [
        ("kill", "--area", "de", "--product", "MONTH", "--strategy", "curve_spread"),
        ("kill",),
        ("resume",),
        ("resume", "--kill", "1"),
        ("status",),
        ("status", "--json"),
        ("kill", "--help"),
    ],
    ids=" ".join,
)
def test_kill_resume_and_status_load_nothing_heavy(args: tuple[str, ...], tmp_path: Path) -> None:
    """No bot answers here, so kill and resume go all the way to the latch file and status to
    its error: every import they make on their way is made."""
    env = {**os.environ, "QUOTER_ADMIN_TOKEN": "a-token-nobody-serves-xxxxxxxx"}
    config = ("--config", str(bot_config(tmp_path))) if "--help" not in args else ()
    code, modules = _loaded(*args, *config, env=env)
    assert code in (0, 1, 2), code
    assert "quoter.commands.killswitch" in modules or "quoter.commands.status" in modules
    heavy = _heavy(modules)
    if args[0] == "kill" and "--help" not in args:
        # No bot answers here: the kill withdraws at the venue itself, so it needs the venue
        # client (loaded in a thread while the bot is asked). Nothing of the backtests.
        heavy = [m for m in heavy if not m.startswith("aiohttp")]
    assert heavy == [], f"quoter {' '.join(args)} imported {heavy}"


def test_quoter_run_imports_no_pandas_of_its_own() -> None:
    """`quoter run --help` imports the whole command: the app, the engine (numpy) and the venue
    client (aiohttp). pandas comes with the trade file alone (the test below)."""
    code, modules = _loaded("run", "--help", env=dict(os.environ))
    assert code == 0
    assert {"quoter.app", "quoter.engine.engine", "quoter.trades.recorder"} <= modules
    heavy = [m for m in _heavy(modules) if m.split(".")[0] not in ("numpy", "aiohttp")]
    assert heavy == [], f"quoter run imported {heavy}"


def test_a_trade_file_brings_pandas_in_as_the_bot_is_built() -> None:
    """With a trade file, pandas is imported as the recorder is built at the start, not at the
    first fill, on the event loop, in the middle of a trading day; with none, not at all."""
    check = (
        "import sys; from pathlib import Path; from quoter.app import _trade_recorder\n"
        "before = 'pandas' in sys.modules; none = _trade_recorder(None)\n"
        "after_none = 'pandas' in sys.modules; _trade_recorder(Path('never-written.parquet'))\n"
        "print(before, none, after_none, 'pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.split() == ["False", "None", "False", "True"], done.stderr


def test_the_probe_sees_heavy_imports_where_there_are_some(tmp_path: Path) -> None:
    """The check above could pass by seeing nothing: the backtest's help loads pandas."""
    _, modules = _loaded("backtest", "--help", env=dict(os.environ))
    assert "pandas" in _heavy(modules)


def test_the_command_table_names_what_each_module_registers() -> None:
    modules = {m.name for m in pkgutil.iter_modules(quoter.commands.__path__)}
    assert set(COMMANDS.values()) == {m for m in modules if not m.startswith("_")}
    for module in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(f"quoter.commands.{module}").register(subparsers)
        registered = set(subparsers.choices)
        assert registered == {c for c, m in COMMANDS.items() if m == module}, module
