"""quoter backtest --cluster on a real Dask cluster (two worker processes on this machine), and
an address where no scheduler answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from dask.distributed import LocalCluster

from quoter.backtest.tape import write_tape
from quoter.cli import main
from tests.backtest.helpers import short_tape

RUNS = [
    "--strategy", "curve_spread", "--strategy", "curve_spread",
    "--param", "credit_default_eur_mwh=0.5", "--seed", "3",
]  # fmt: skip
TABLES = ("decisions", "fills", "inventory", "summary")


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=30.0), path)
    return path


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    # Worker processes import quoter themselves and read the tape by its path, as on a real
    # cluster whose machines share the filesystem.
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as running:
        yield running


def test_a_sweep_on_a_dask_cluster_gives_the_local_tables(
    tape: Path, tmp_path: Path, cluster: LocalCluster
) -> None:
    on_dask, local = tmp_path / "dask", tmp_path / "local"
    address = cluster.scheduler_address
    assert (
        main(["backtest", "replay", str(tape), *RUNS, "--cluster", address, "--out", str(on_dask)])
        == 0
    )
    assert (
        main(["backtest", "replay", str(tape), *RUNS, "--workers", "1", "--out", str(local)]) == 0
    )
    assert cluster.scheduler is not None
    assert "run_job" in cluster.scheduler.task_prefixes  # the runs went to the workers
    for name in TABLES:
        ours = pd.read_parquet(on_dask / f"{name}.parquet")
        pd.testing.assert_frame_equal(ours, pd.read_parquet(local / f"{name}.parquet"))
    assert len(pd.read_parquet(on_dask / "summary.parquet")) == 2
    assert len(pd.read_parquet(on_dask / "fills.parquet")) > 0


def test_an_unreachable_scheduler_is_named_in_one_line(
    tape: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    argv = ["backtest", "replay", str(tape), "--cluster", address, "--cluster-timeout", "1"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert err == f"quoter backtest: cannot reach the Dask scheduler at {address} within 1 s"
    assert not (tmp_path / "out").exists()


def test_a_malformed_address_is_refused(tape: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "replay", str(tape), "--cluster", "scheduler.example"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quoter backtest: scheduler.example: not a Dask scheduler address")
