"""The backtest commands the READMEs show parse as written, and the README's sweep runs under the
sample's desk (the demo's limits run out of credit on the sample's fourth day)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd

from quoter.backtest.tape import write_tape
from quoter.cli import build_parser, main
from tests.backtest.helpers import short_tape

ROOT = Path(__file__).resolve().parents[2]
READMES = (ROOT / "README.md", ROOT / "backtests" / "README.md")


def commands(path: Path) -> list[list[str]]:
    """Every `quoter backtest ...` command in the file's sh blocks, continuation lines joined."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", path.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if re.match(r"(\.venv/bin/)?quoter backtest ", line):
                found.append(shlex.split(line)[1:])
    return found


def test_every_backtest_command_in_the_readmes_parses() -> None:
    shown = [argv for path in READMES for argv in commands(path)]
    assert len(shown) >= 8
    for argv in shown:
        if "[--max-requests" in argv:  # a synopsis: its optional part in brackets
            argv = argv[: argv.index("[--max-requests")]
        argv = [a.replace("A,B", "0.4,2.1") for a in argv]  # the placeholder of a fitted pair
        args = build_parser(argv).parse_args(argv)
        assert args.backtest_command in {"replay", "make-tape", "record", "calibrate"}, argv


def test_the_readme_sweep_runs_on_the_sample_desk(tmp_path: Path) -> None:
    (sweep,) = [a for a in commands(READMES[0]) if "--sweep" in a and "--workers" in a]
    assert sweep[sweep.index("--config") + 1] == "backtests/sample-desk.toml"
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=5.0), tape)
    argv = [str(tape) if a.endswith("sample-tape.parquet") else a for a in sweep]
    argv = [str(ROOT / a) if a.startswith(("backtests/", "config/")) else a for a in argv]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert len(summary) == 5
