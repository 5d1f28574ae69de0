"""Backtest figures: RFQs replayed per second through the unchanged engine path (one core),
peak memory of loading a one-million-RFQ tape plus a bounded replay, and the speed-up of a
2-process sweep over sequential runs."""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.engine_setup import roomy_risk
from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import ReplaySettings, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.run import Job, run_jobs
from quoter.backtest.synth import synthetic_tape
from quoter.backtest.tape import parse_frame, read_tape, write_tape
from quoter.engine.config import EngineConfig
from quoter.venue.config import UsagePlanConfig

BIG_PLAN = UsagePlanConfig(rate_per_s=1e6, burst=1_000_000, daily_quota=10**9)


def _dense(rfqs: int, per_min: float) -> pd.DataFrame:
    """A tape of `rfqs` RFQs arriving at `per_min`."""
    return synthetic_tape(1, per_min=per_min, max_rfqs=rfqs)


def _settings(workdir: Path, quotes: int) -> ReplaySettings:
    config = EngineConfig.model_validate(
        {"kill": {"latch_path": workdir / "k.json"}, "audit_dir": workdir / "audit"}
    )
    return ReplaySettings(config, roomy_risk(quotes), BIG_PLAN)


def rate(rfqs: int = 20_000, per_min: float = 3000.0) -> float:
    tape = parse_frame(_dense(rfqs, per_min), "bench")
    with tempfile.TemporaryDirectory() as work:
        settings = _settings(Path(work), 1_000_000)
        curves = DailyCurves(None, tape.start.date())
        started = time.perf_counter()
        done = asyncio.run(replay(tape, RunSpec("bench"), AuctionFill(), settings, curves))
        elapsed = time.perf_counter() - started
    quoted = done.ctx.stats.quotes_sent
    print(
        f"replay: {len(tape):,} RFQs ({per_min:g}/min) in {elapsed:.2f} s = "
        f"{len(tape) / elapsed:,.0f} RFQs/s on one core ({quoted:,} quoted, {done.steps:,} steps)"
    )
    return len(tape) / elapsed


def memory(rfqs: int = 1_000_000, replayed: int = 20_000) -> None:
    with tempfile.TemporaryDirectory() as work:
        day = synthetic_tape(1, per_min=3000.0, max_rfqs=50_000)
        copies = -(-rfqs // len(day))
        frames = []
        for k in range(copies):
            part = day.copy()
            part["id"] = part["id"] + f"-{k}"
            frames.append(part)
        big = pd.concat(frames, ignore_index=True).head(rfqs)
        path = Path(work) / "big.parquet"
        write_tape(big, path)
        del big, frames
        started = time.perf_counter()
        tape = read_tape(path)
        loaded = time.perf_counter() - started
        peak_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        head = parse_frame(day.head(replayed), "bench")
        curves = DailyCurves(None, head.start.date())
        asyncio.run(replay(head, RunSpec("m"), AuctionFill(), _settings(Path(work), 10**6), curves))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: {len(tape):,}-RFQ tape read and validated in {loaded:.1f} s; peak RSS "
        f"{peak_load:,.0f} MiB after loading, {peak:,.0f} MiB after a {replayed:,}-RFQ replay "
        "(the 1M tape held in memory meanwhile)"
    )


def sweep(runs: int = 4, rfqs: int = 1_500) -> None:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "tape.parquet"
        write_tape(synthetic_tape(2, per_min=2.0).head(rfqs), path)
        jobs = [
            Job(path, RunSpec(f"r{i}", "curve_spread", {"credit_default_eur_mwh": 0.05 * i}))
            for i in range(runs)
        ]
        started = time.perf_counter()
        run_jobs(jobs, workers=1)
        one = time.perf_counter() - started
        started = time.perf_counter()
        run_jobs(jobs, workers=2)
        two = time.perf_counter() - started
    print(
        f"sweep: {runs} runs of a {rfqs:,}-RFQ tape: sequential {one:.1f} s, "
        f"2 processes {two:.1f} s, speed-up x{one / two:.2f}"
    )


def run() -> None:
    rate()
    sweep()
    memory()
