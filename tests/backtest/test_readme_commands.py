"""The backtest commands both READMEs show parse as written (tests/test_readme_commands.py runs
the main README's)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from quoter.cli import build_parser

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
