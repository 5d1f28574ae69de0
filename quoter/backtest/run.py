"""Running backtests: one run in this process, several side by side in parallel processes, or
on a Dask cluster. A job names its tape (and curves) by path, so each worker reads it itself
(a run in this process takes the tape its caller has already read): on a cluster of several machines the path must be one every worker can read (a shared
filesystem), and every worker needs quoter installed (`pip install -e '.[cluster]'`)."""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from quoter.backtest.curves import DailyCurves, StaticCurves
from quoter.backtest.driver import DEFAULT_PLAN, Progress, ReplaySettings, RunSpec, replay
from quoter.backtest.fills import fill_model
from quoter.backtest.results import concat, tables
from quoter.backtest.tape import Tape, read_tape
from quoter.engine.config import EngineConfig
from quoter.pricing.config import CurvesConfig
from quoter.pricing.curve_checks import load_vetted
from quoter.risk.config import DEMO_RISK, RiskConfig
from quoter.strategy_paths import add_strategy_folders
from quoter.venue.config import UsagePlanConfig

Tables = dict[str, pd.DataFrame]
DEFAULT_CURVES = CurvesConfig()

log = logging.getLogger(__name__)


DEFAULT_ENGINE = EngineConfig()
CONNECT_TIMEOUT_S = 10.0


class ClusterError(RuntimeError):
    """The cluster cannot be used: Dask missing, no scheduler at the address, or no address."""


class CurveFilesError(Exception):
    """A run's curve file or folder holds no usable series; the message lists the problems."""


@dataclass(frozen=True, slots=True)
class Job:
    tape: Path
    spec: RunSpec
    fill: str = "auction"
    seed: int = 0
    curves: Path | None = None
    risk: RiskConfig = DEMO_RISK
    usage_plan: UsagePlanConfig = DEFAULT_PLAN
    engine: EngineConfig = DEFAULT_ENGINE  # quoting, polling, hours, kill triggers
    curves_config: CurvesConfig = DEFAULT_CURVES  # the bands the curves are checked against
    logistic: tuple[float, float] | None = None  # the logistic fill's (a, b); None: default
    # Where the job's strategy modules are found: a worker imports them by name itself.
    strategy_folders: tuple[Path, ...] = ()


def settings_for(job: Job) -> ReplaySettings:
    """A replay writes nothing of the engine's files: its kill latch and audit trail are kept in
    memory, so the configured paths go unused."""
    return ReplaySettings(job.engine, job.risk, job.usage_plan)


def curves_for(job: Job, tape: Tape) -> tuple[StaticCurves | DailyCurves, tuple[str, ...]]:
    """The curves the replay prices from, and the series refused in them (their RFQs decline
    `no-curve`; the report says which): all refused is an error, nothing to replay against."""
    if job.curves is None:
        return DailyCurves(None, tape.start.date(), seed=0), ()
    # As the bot would have read them at the tape's first RFQ: a curve in EUR/kWh or out of the
    # desk's band is refused, and so is one dated after the tape starts (it would price the
    # tape's RFQs before it from the future).
    loaded = load_vetted(job.curves, tape.start, job.curves_config)
    if loaded.problems and not len(loaded.curve_set):
        raise CurveFilesError("; ".join(str(p) for p in loaded.problems))
    refused = tuple(str(problem) for problem in loaded.problems)
    for problem in refused:
        log.warning("curve refused, its RFQs are declined (no-curve): %s", problem)
    return StaticCurves(loaded.curve_set), refused


def run_tape(job: Job, tape: Tape, progress: Progress | None = None) -> Tables:
    curves, refused = curves_for(job, tape)
    settings = settings_for(job)
    fills = fill_model(job.fill, job.seed, job.logistic)
    run = replay(tape, job.spec, fills, settings, curves, progress)
    result = tables(run, curves)
    result["summary"]["curves_refused"] = " | ".join(refused)
    return result


def run_job(job: Job) -> Tables:
    """One run in this process (the unit a pool or a cluster runs)."""
    add_strategy_folders(job.strategy_folders)
    return run_tape(job, read_tape(job.tape))


def run_jobs(
    jobs: list[Job],
    tape: Tape | None = None,
    *,
    workers: int = 1,
    cluster: str | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    progress: Progress | None = None,
) -> Tables:
    """The jobs' tables, concatenated. Run in this process, they replay `tape` (the jobs' tape,
    already read: a 1M-RFQ tape is ~550 MiB and seconds to read) or else read it once; in
    processes or on a cluster each job reads its own by path."""
    if cluster is not None:
        return concat(_on_dask(jobs, cluster, connect_timeout_s))
    if workers <= 1 or len(jobs) == 1:
        tape = tape if tape is not None else read_tape(jobs[0].tape)
        return concat([run_tape(j, tape, progress) for j in jobs])
    with ProcessPoolExecutor(max_workers=workers, initializer=one_blas_thread) as pool:
        return concat(list(pool.map(run_job, jobs)))


def one_blas_thread() -> None:
    """Each process sweeps on one core: BLAS threads of their own (the curve builder's least
    squares) would spin against the other processes; two 2-thread pools on 2 cores made each
    run 1.75x slower. Set at run time: forked workers inherit a BLAS already started."""
    threadpool_limits(limits=1)


def _on_dask(jobs: list[Job], address: str, connect_timeout_s: float) -> list[Tables]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ClusterError(
            "--cluster needs Dask: pip install 'dask[distributed]' (a Ray cluster is not supported)"
        ) from None
    # Workers start elsewhere: a relative path would be resolved against their directory.
    jobs = [replace(j, tape=j.tape.resolve(), curves=_resolved(j.curves)) for j in jobs]
    try:
        client = Client(address, timeout=connect_timeout_s)  # type: ignore[no-untyped-call]
    except OSError:  # unreachable: refused, no route, timed out (TimeoutError is an OSError)
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {connect_timeout_s:g} s"
        ) from None
    except ValueError as error:  # no port, unknown scheme
        raise ClusterError(f"{address}: not a Dask scheduler address: {error}") from None
    except MemoryError:  # an HTTP server (the dashboard?) answered: its reply read as a length
        raise ClusterError(f"{address}: what answers there is not a Dask scheduler") from None
    with client:
        futures = client.map(run_job, jobs, pure=False)
        results: list[Tables] = client.gather(futures)  # type: ignore[no-untyped-call]
    return results


def _resolved(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()
