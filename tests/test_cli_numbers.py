"""A numeric flag out of its range is refused by argparse, naming the flag and the range, exit 2,
no traceback: never a ValueError from a clock, a ZeroDivisionError or a validator's raw text."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pytest

import quoter.cli
from quoter.cli import build_parser, main

TAPE = "tape.parquet"
BAD = [
    (["run", "--speed", "0"], "--speed"),
    (["run", "--speed", "-1"], "--speed"),
    (["run", "--speed", "nan"], "--speed"),
    (["run", "--speed", "inf"], "--speed"),
    (["run", "--speed", "3601"], "--speed"),
    (["run", "--speed", "fast"], "--speed"),
    (["run", "--status-s", "0"], "--status-s"),
    (["run", "--status-s", "-1"], "--status-s"),
    (["run", "--status-s", "nan"], "--status-s"),
    (["sandbox", "--speed", "0"], "--speed"),
    (["sandbox", "--speed", "inf"], "--speed"),
    (["sandbox", "--port", "99999"], "--port"),
    (["sandbox", "--port", "-1"], "--port"),
    (["sandbox", "--port", "80.5"], "--port"),
    (["backtest", "make-tape", "--days", "0"], "--days"),
    (["backtest", "replay", TAPE, "--workers", "0"], "--workers"),
    (["backtest", "replay", TAPE, "--cluster-timeout", "0"], "--cluster-timeout"),
    (["backtest", "replay", TAPE, "--cluster-timeout", "nan"], "--cluster-timeout"),
    (["backtest", "calibrate", "--audit", "a", "--prior-weight", "-1"], "--prior-weight"),
    (["backtest", "calibrate", "--audit", "a", "--prior-weight", "nan"], "--prior-weight"),
    (["backtest", "record", "--out", TAPE, "--max-requests", "0"], "--max-requests"),
    (["curves", "build", "p.csv", "--out", "c.csv", "--tolerance", "nan"], "--tolerance"),
    (["curves", "build", "p.csv", "--out", "c.csv", "--tolerance", "-1"], "--tolerance"),
    (["curves", "synth", "--out", "c.csv", "--years", "-1"], "--years"),
    (["curves", "synth", "--out", "c.csv", "--years", "11"], "--years"),
    (["curves", "synth", "--out", "c.csv", "--seed", "-1"], "--seed"),
]


def _reached(args: argparse.Namespace) -> int:
    raise AssertionError(f"the command ran with {args}: argparse let the value through")


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _every_parser(sub)
    return found


@pytest.fixture
def commands_stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No command runs: a value argparse let through fails the test at once, rather than start
    a demo at that speed or write a tape into the working folder."""

    def stubbed(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
        parser = build_parser(argv)
        for each in _every_parser(parser):
            if each.get_default("handler") is not None:
                each.set_defaults(handler=_reached)
        return parser

    monkeypatch.setattr(quoter.cli, "build_parser", stubbed)


@pytest.mark.usefixtures("commands_stubbed")
@pytest.mark.parametrize(("argv", "flag"), BAD, ids=[" ".join(argv) for argv, _ in BAD])
def test_a_value_out_of_range_is_refused_naming_the_flag(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    err = capsys.readouterr().err
    assert ended.value.code == 2, err
    assert f"argument {flag}: " in err
    assert "give a " in err  # the range it takes
    assert "Traceback" not in err
    assert "pydantic" not in err


@pytest.mark.parametrize(
    ("argv", "name", "value"),
    [
        (["run", "--speed", "3600"], "speed", 3600.0),
        (["run", "--speed", "0.5"], "speed", 0.5),
        (["run", "--status-s", "0.1"], "status_s", 0.1),
        (["sandbox", "--port", "0"], "port", 0),
        (["sandbox", "--port", "65535"], "port", 65535),
        (["curves", "synth", "--out", "c.csv", "--years", "0"], "years", 0),
        (["backtest", "calibrate", "--audit", "a", "--prior-weight", "0"], "prior_weight", 0.0),
    ],
)
def test_a_value_within_range_is_taken(argv: list[str], name: str, value: float) -> None:
    assert getattr(build_parser(argv).parse_args(argv), name) == value


def test_the_refusal_says_the_range() -> None:
    from quoter.commands._flags import SANDBOX_SPEED

    assert SANDBOX_SPEED.describe("a number") == "a number above 0 and at most 3600"
