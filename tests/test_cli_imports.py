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


# `quoter run --help`, which imports the whole command, then the bot's trade recorder built
# as the bot's start builds it: with no trade file, then with one.
RUN_PROBE = """
import json, sys
from pathlib import Path
from quoter.cli import main
try:
    code = main(["run", "--help"])
except SystemExit as exit:
    code = exit.code
from quoter.app import _trade_recorder
modules = sorted(sys.modules)
none = _trade_recorder(None)
after_none = "pandas" in sys.modules
_trade_recorder(Path(sys.argv[1]))
print(json.dumps({"code": code, "modules": modules, "none": none is None,
                  "after_none": after_none, "after_file": "pandas" in sys.modules}))
"""


def test_quoter_run_imports_pandas_only_as_it_builds_a_trade_recorder(tmp_path: Path) -> None:
    """The run command's modules (the app, the engine with numpy, the venue client with
    aiohttp) load no pandas; the trade file's recorder, built at the bot's start, does: not at
    the first fill, on the event loop, in the middle of a trading day. With no trade file (the
    recorder None), never."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_PROBE, str(tmp_path / "never-written.parquet")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["code"] == 0, done.stderr
    modules = set(answer["modules"])
    assert {"quoter.commands.run", "quoter.engine.engine", "quoter.trades.recorder"} <= modules
    heavy = [m for m in _heavy(modules) if m.split(".")[0] not in ("numpy", "aiohttp")]
    assert heavy == [], f"quoter run imported {heavy}"
    assert (answer["none"], answer["after_none"], answer["after_file"]) == (True, False, True)
    assert not (tmp_path / "never-written.parquet").exists()  # built, not written


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
