"""quoter backtest --sweep FILE: the example sweep end to end, and bad files refused by name."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from quoter.backtest.run import one_blas_thread
from quoter.backtest.sweep import SweepError, load_sweep
from quoter.backtest.tape import write_tape
from quoter.cli import main
from tests.backtest.helpers import short_tape

EXAMPLE = Path(__file__).parents[2] / "config" / "examples" / "sweep.toml"


def test_the_example_sweep_runs_every_combination_and_run(tmp_path: Path) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=10.0), tape)
    out = tmp_path / "out"
    argv = [
        "backtest",
        "replay",
        str(tape),
        "--sweep",
        str(EXAMPLE),
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    summary = pd.read_parquet(out / "summary.parquet")
    assert list(summary.run) == [spec.label for spec in load_sweep(EXAMPLE)]
    assert len(summary) == 5  # the 2 x 2 grid and one listed run
    assert list(summary.strategy) == ["curve_spread"] * 4 + ["inventory_skew"]
    assert summary.run.iloc[2].startswith(
        "curve_spread credit_default_eur_mwh=0.5 size_add_on_eur_mwh=[[25,0.0],"
    )
    assert summary.run.iloc[4] == "skewed"


def sweep_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_nested_grid_keys_and_unlabelled_runs(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        'strategy = "curve_spread"\n'
        "[grid]\ncredit_default_eur_mwh = [0.1]\n"
        "load_factor.peak = [1.0, 2.0]\n"
        '[[runs]]\nparams = { credit_eur_mwh = { "c-1" = 0.3 } }\n',
    )
    specs = load_sweep(path)
    assert [s.label for s in specs] == [
        "curve_spread credit_default_eur_mwh=0.1 load_factor.peak=1.0",
        "curve_spread credit_default_eur_mwh=0.1 load_factor.peak=2.0",
        "curve_spread credit_eur_mwh.c-1=0.3",
    ]
    assert specs[1].params == {"credit_default_eur_mwh": 0.1, "load_factor": {"peak": 2.0}}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('strategy = "curve_spread"\ngird = {}\n', "gird: unknown key"),
        ("[[runs]]\nlabl = 'x'\n", "runs.0.labl: unknown key"),
        ("[grid]\ncredit_default_eur_mwh = 0.5\n", "grid.credit_default_eur_mwh: give a non-empty"),
        ("[grid]\ncredit_default_eur_mwh = []\n", "grid.credit_default_eur_mwh: give a non-empty"),
        (
            "[grid]\ncredit_default_eur_mwh = [0.1, -1]\n",
            "run curve_spread credit_default_eur_mwh=-1: curve_spread: invalid parameters\n"
            "  credit_default_eur_mwh: Input should be greater than or equal to 0",
        ),
        (
            "[[runs]]\nparams = { spread = 1 }\n",
            "run curve_spread spread=1: curve_spread: unknown parameter(s) spread",
        ),
        ('strategy = "no_such"\n[grid]\nx = [1]\n', "unknown strategy 'no_such'"),
        ("strategy = 3\n[grid]\nx = [1]\n", "strategy: Input should be a valid string"),
        ("[grid\n", "not valid TOML"),
        ('strategy = "curve_spread"\n', "no runs: give a [grid] or [[runs]]"),
        ("[grid]\na = [" + ",".join(["1"] * 40) + "]\nb = [" + ",".join(["1"] * 40) + "]\n",
         "[grid] makes 1600 runs; at most 1000"),
    ],
)  # fmt: skip
def test_a_bad_sweep_file_is_refused_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    path = sweep_file(tmp_path, text)
    with pytest.raises(SweepError) as refused:
        load_sweep(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert named in str(refused.value)
    assert main(["backtest", "replay", str(tmp_path / "absent.parquet"), "--sweep", str(path)]) == 2
    assert named in capsys.readouterr().err  # the file is refused before the tape is read


def test_the_cli_names_the_bad_sweep_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=5.0), tape)
    path = sweep_file(tmp_path, "[grid]\ncredit_default_eur_mwh = 0.5\n")
    assert main(["backtest", "replay", str(tape), "--sweep", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"quoter backtest: {path}: grid.credit_default_eur_mwh: "
        "give a non-empty list of values to try\n"
    )
    assert main(["backtest", "replay", str(tape), "--sweep", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: cannot read" in capsys.readouterr().err


def test_a_sweep_and_strategy_options_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=5.0), tape)
    argv = ["backtest", "replay", str(tape), "--sweep", str(EXAMPLE), "--strategy", "curve_spread"]
    assert main(argv) == 2
    assert "give the runs one way" in capsys.readouterr().err


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_sweep_processes_keep_to_one_blas_thread_each() -> None:
    """Two processes on two cores, each with a BLAS pool as wide as the machine, spun against
    each other: a 2-process sweep gained x1.24 instead of x1.9."""
    assert np.linalg.lstsq(np.eye(3), np.ones(3), rcond=None)[0].sum() == 3.0  # BLAS loaded
    with ProcessPoolExecutor(1, initializer=one_blas_thread) as pool:
        threads = pool.submit(_blas_threads).result()
    assert threads  # a BLAS is there to limit
    assert set(threads) == {1}
