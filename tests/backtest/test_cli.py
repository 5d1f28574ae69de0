"""quoter backtest end to end: two runs side by side, the files they leave, and --cluster."""

import argparse
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from quoter.backtest import progress, run
from quoter.backtest.driver import RunSpec
from quoter.backtest.tape import REQUIRED, Tape, read_tape, write_tape
from quoter.cli import main
from quoter.commands import backtest
from tests.backtest.helpers import short_tape
from tests.factories import risk_toml


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=30.0), path)
    return path


def test_two_runs_side_by_side_leave_tables_and_a_report(tape: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "backtest", "replay", str(tape), "--strategy", "curve_spread", "--strategy", "curve_spread",
            "--param", "credit_default_eur_mwh=0.5", "--seed", "3", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2  # one row per run
    assert (out / "report.html").read_text().count("data:image/png;base64,") >= 2
    assert (out / "decisions.parquet").exists()


def test_cluster_without_dask_says_how_to_get_it(
    tape: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    assert main(["backtest", "replay", str(tape), "--cluster", "tcp://127.0.0.1:1"]) == 2
    assert "pip install 'dask[distributed]'" in capsys.readouterr().err


def test_progress_off_a_terminal_is_plain_lines_now_and_then() -> None:
    out = io.StringIO()
    with progress.progress_bar("replay", stream=out, every_s=3600.0) as show:
        for done in range(0, 10_001, 7):
            show(done, 10_000)
        show(10_000, 10_000)
    assert out.getvalue().splitlines() == ["replay: 0/10,000 RFQs", "replay: 10,000/10,000 RFQs"]


def test_progress_on_a_terminal_is_a_bar_that_ends_full() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with progress.progress_bar("replay", stream=out) as show:
        show(500, 10_000)
        show(10_000, 10_000)
    drawn = out.getvalue()
    assert "\x1b[" in drawn  # drawn by rich, redrawn in place
    assert "10,000/10,000 RFQs" in drawn


DESK = """
[engine.strategy]
name = "curve_spread"
params = { credit_default_eur_mwh = 0.25 }

""" + risk_toml(max_open_quotes=2)


def test_a_desk_config_brings_its_limits_and_its_strategy(tape: Path, tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text(DESK)
    out = tmp_path / "out"
    assert main(["backtest", "replay", str(tape), "--config", str(config), "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.run) == ["curve_spread"]
    assert "0.25" in summary.params.iloc[0]  # the configured parameters, not the defaults
    assert summary["declines:max-open-quotes"].iloc[0] > 0  # the desk's 2, not the demo's 40


def test_a_desk_config_without_limits_is_refused_by_name(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "desk.toml"
    config.write_text(DESK.split("[risk]")[0])  # no [risk]
    assert main(["backtest", "replay", str(tape), "--config", str(config)]) == 2
    assert f"{config}: no [risk] section" in capsys.readouterr().err


SKEW_DESK = """
[engine.strategy]
name = "inventory_skew"
[engine.strategy.params]
k_eur_mwh_per_mwh = 0.001
inner = { name = "curve_spread", params = { credit_default_eur_mwh = 0.25 } }

""" + risk_toml(max_open_quotes=2)


def test_params_without_a_strategy_update_the_desk_strategy(tape: Path, tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text(SKEW_DESK)
    out = tmp_path / "out"
    argv = ["backtest", "replay", str(tape), "--config", str(config), "--out", str(out)]
    params = ["--param", "cap_eur_mwh=1.5", "--param", "inner.params.credit_default_eur_mwh=0.5"]
    assert main([*argv, *params]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.run) == [
        "inventory_skew cap_eur_mwh=1.5 inner.params.credit_default_eur_mwh=0.5"
    ]
    assert json.loads(summary.params.iloc[0]) == {
        "k_eur_mwh_per_mwh": 0.001,  # configured, kept
        "cap_eur_mwh": 1.5,  # given
        "inner": {"name": "curve_spread", "params": {"credit_default_eur_mwh": 0.5}},
    }


def test_params_without_a_strategy_or_a_desk_are_curve_spreads() -> None:
    given = [("--param", "credit_default_eur_mwh=0.5"), ("--strategy", "inventory_skew")]
    assert backtest.specs_of(given) == [
        RunSpec(
            "curve_spread credit_default_eur_mwh=0.5",
            "curve_spread",
            {"credit_default_eur_mwh": 0.5},
        ),
        RunSpec("inventory_skew", "inventory_skew", {}),
    ]


def test_runs_are_labelled_by_strategy_and_parameters_told_apart() -> None:
    given = [
        ("--strategy", "curve_spread"),
        ("--strategy", "curve_spread"),
        ("--param", "credit_default_eur_mwh=0.5"),
        ("--strategy", "curve_spread"),
    ]
    assert [s.label for s in backtest.specs_of(given)] == [
        "curve_spread",
        "curve_spread credit_default_eur_mwh=0.5",
        "curve_spread #2",
    ]


def test_a_replay_in_this_process_reads_the_tape_once(
    tape: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Path] = []

    def counted(path: Path) -> Tape:
        reads.append(path)
        return read_tape(path)

    monkeypatch.setattr(backtest, "read_tape", counted)
    monkeypatch.setattr(run, "read_tape", counted)
    runs = ["--strategy", "curve_spread", "--strategy", "curve_spread"]
    assert main(["backtest", "replay", str(tape), *runs, "--out", str(tmp_path / "out")]) == 0
    assert reads == [tape]


def test_an_internal_error_is_raised_with_its_traceback(
    tape: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> run.Tables:
        raise ValueError("a bug deep in the run")

    monkeypatch.setattr(run, "tables", broken)
    with pytest.raises(ValueError, match="a bug deep in the run"):
        main(["backtest", "replay", str(tape), "--out", str(tmp_path / "out")])


def test_curves_without_a_usable_series_are_refused_by_name(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curves = tmp_path / "curves"
    curves.mkdir()
    (curves / "broken.csv").write_text("not,a,curve\n1,2,3\n")
    assert main(["backtest", "replay", str(tape), "--curves", str(curves)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"quoter backtest: {curves / 'broken.csv'}")
    assert err.count("\n") == 1  # one line, no traceback


def test_a_tape_without_usable_rows_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(REQUIRED) + "\n")
    assert main(["backtest", "replay", str(empty), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quoter backtest: ")
    assert "no usable rows" in err
    assert err.count("\n") == 1


def test_the_old_form_is_answered_with_the_replay_command(
    tape: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["backtest", str(tape), "--seed", "3"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"quoter backtest: to replay a tape: quoter backtest replay {tape}\n"
    )


ACTION_OPTIONS = {
    "replay": {
        "--curves", "--strategy", "--param", "--sweep", "--fill", "--logistic", "--seed",
        "--out", "--workers", "--cluster", "--cluster-timeout", "--config",
    },
    "make-tape": {"--days", "--seed", "--out"},
    "record": {"--config", "--from", "--to", "--out", "--max-requests", "--skip-custom"},
    "calibrate": {
        "--audit", "--replay", "--tape", "--fit-out", "--prior-weight", "--by-counterparty",
    },
}  # fmt: skip


def test_each_action_takes_its_own_options_each_with_help() -> None:
    parser = argparse.ArgumentParser()
    backtest.register(parser.add_subparsers())
    (command,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (actions,) = [
        a for a in command.choices["backtest"]._actions if isinstance(a, argparse._SubParsersAction)
    ]
    assert set(actions.choices) == set(ACTION_OPTIONS)
    for name, sub in actions.choices.items():
        options = [a for a in sub._actions if a.option_strings and a.dest != "help"]
        assert {a.option_strings[-1] for a in options} == ACTION_OPTIONS[name], name
        assert all(a.help for a in sub._actions), name
        if name == "record":
            assert next(a for a in options if a.dest == "end").metavar == "ISO"  # --to: a time
    assert "(default: var/backtest)" in actions.choices["replay"].format_help()


def _synthetic_curves(tmp_path: Path, name: str, as_of: str, scale: float) -> Path:
    """The synthetic curves dated `as_of`, their prices times `scale` (1/1000: in EUR/kWh)."""
    written = tmp_path / f"{name}-eur-mwh.csv"
    assert main(["curves", "synth", "--as-of", as_of, "--out", str(written)]) == 0
    frame = pd.read_csv(written)
    frame["price"] = frame["price"] * scale
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("as_of", "scale", "said"),
    [
        ("2026-03-01T18:00:00+01:00", 1 / 1000, "is the file in EUR/kWh?"),  # the wrong unit
        ("2026-03-01T18:00:00+01:00", 60.0, "outside the plausible band"),  # thousands
        ("2026-06-01T18:00:00+02:00", 1.0, "after now"),  # dated after the tape: look-ahead
    ],
)
def test_curves_the_bot_would_refuse_are_refused_by_a_backtest_too(
    tape: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    as_of: str,
    scale: float,
    said: str,
) -> None:
    curves = _synthetic_curves(tmp_path, "curves", as_of, scale)
    capsys.readouterr()
    out = tmp_path / "out"  # not var/backtest in the checkout, should the refusal regress
    assert main(["backtest", "replay", str(tape), "--curves", str(curves), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"quoter backtest: {curves}")
    assert said in err
    assert not out.exists()
    assert err.count("\n") == 1  # one line, no traceback


def test_a_curve_dated_during_the_tape_is_look_ahead_and_refused(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Dated a quarter of an hour into a 30-minute tape: its first RFQs would be priced from a
    # curve the bot could not have read yet. Checked against the tape's end, it was used.
    start = read_tape(tape).start
    during = (start + pd.Timedelta(minutes=15)).isoformat()
    curves = _synthetic_curves(tmp_path, "curves", during, 1.0)
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["backtest", "replay", str(tape), "--curves", str(curves), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "after now" in err
    assert start.astimezone(pd.Timestamp(during).tzinfo).isoformat()[:19] in err.replace(" ", "T")
    assert not out.exists()


def test_a_desks_curve_bands_are_the_ones_a_backtest_checks_and_its_report_says_so(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The desk narrowed power's band: its bot refuses these power curves, so its backtest
    # does (the defaults passed them), and the report says so, not only a log line.
    start = read_tape(tape).start
    curves = _synthetic_curves(tmp_path, "curves", start.isoformat(), 1.0)
    config = tmp_path / "desk.toml"
    narrow = (
        "\n[curves.bands.power]\nmin_eur_mwh = 0.0\nmax_eur_mwh = 1.0\nmin_mean_eur_mwh = 0.5\n"
    )
    config.write_text(DESK + narrow)
    out = tmp_path / "out"
    argv = ["backtest", "replay", str(tape), "--curves", str(curves), "--out", str(out)]
    assert main([*argv, "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert "curve series refused, their RFQs declined no-curve: " in printed
    assert "outside the plausible band of power/DE [0, 1]" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert "power/DE" in summary.curves_refused.iloc[0]
    assert summary["declines:no-curve"].iloc[0] > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "outside the plausible band of power/DE [0, 1]" in report
