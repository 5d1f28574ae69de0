"""quoter backtest end to end: two runs side by side, the files they leave, and --cluster."""

import sys
from pathlib import Path

import pandas as pd
import pytest

from quoter.backtest.run import status_line
from quoter.backtest.tape import write_tape
from quoter.cli import main
from tests.backtest.helpers import short_tape


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=30.0), path)
    return path


def test_two_runs_side_by_side_leave_tables_and_a_report(tape: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "backtest", str(tape), "--strategy", "curve_spread", "--strategy", "curve_spread",
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
    assert main(["backtest", str(tape), "--cluster", "tcp://127.0.0.1:1"]) == 2
    assert "pip install 'dask[distributed]'" in capsys.readouterr().err


def test_the_progress_bar_redraws_sparingly_and_always_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    show = status_line("replay", every_s=3600.0)
    for done in range(0, 10_001, 7):
        show(done, 10_000)
    show(10_000, 10_000)
    drawn = capsys.readouterr().err
    assert drawn.count("\r") == 2  # the first draw, and the end
    assert drawn.endswith("[##############################] 10,000/10,000 RFQs\n")
