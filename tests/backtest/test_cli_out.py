"""A replay's options are checked before it runs: a `--out` that cannot take the results is
refused in one line at once, not after the whole replay, whose results would then be lost; and
`--workers` is 1 or more."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoter.backtest.tape import write_tape
from quoter.cli import main
from quoter.commands import backtest
from tests.backtest.helpers import short_tape


def _never_replayed(*args: object, **kwargs: object) -> object:
    raise AssertionError("the replay ran before the results folder was checked")


@pytest.mark.parametrize("where", ["a-file", "a-file/below-it"])
def test_an_out_that_is_a_file_is_refused_before_the_replay(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=5.0), tape)
    (tmp_path / "a-file").write_text("the desk's notes\n")
    monkeypatch.setattr(backtest, "run_jobs", _never_replayed)
    code = main(["backtest", "replay", str(tape), "--out", str(tmp_path / where)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"quoter backtest: --out {tmp_path / where}: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "a-file").read_text() == "the desk's notes\n"


@pytest.mark.parametrize("workers", ["0", "-2", "two"])
def test_workers_must_be_one_or_more(workers: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["backtest", "replay", "tape.parquet", "--workers", workers])
    assert ended.value.code == 2
    assert "argument --workers: " in capsys.readouterr().err
