"""Backtest figures: RFQs replayed per second through the unchanged engine path (one core), the
replay alone, the day's curve build on its own line, beside the decision's own throughput on
the same RFQs; the marginal rate of `quoter backtest replay` on the shipped sample month; peak
memory of a process reading and replaying a one-million-RFQ tape; and the speed-up of a
2-process sweep over sequential runs."""

from __future__ import annotations

import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pandas as pd

from benchmarks.engine_setup import decide_all, roomy_risk
from quoter.backtest.curves import DailyCurves, local_day
from quoter.backtest.driver import ReplaySettings, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.progress import progress_bar
from quoter.backtest.run import Job, run_jobs
from quoter.backtest.synth import SAMPLE_START, synthetic_tape
from quoter.backtest.tape import Tape, parse_frame, read_tape, write_tape
from quoter.engine.config import EngineConfig
from quoter.venue.config import UsagePlanConfig

BIG_PLAN = UsagePlanConfig(rate_per_s=1e6, burst=1_000_000, daily_quota=10**9)
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TAPE = ROOT / "backtests" / "sample-tape.parquet"
SAMPLE_DESK = ROOT / "backtests" / "sample-desk.toml"


def _dense(rfqs: int, per_min: float) -> pd.DataFrame:
    """A tape of `rfqs` RFQs arriving at `per_min`."""
    return synthetic_tape(1, per_min=per_min, max_rfqs=rfqs)


def _settings(workdir: Path, quotes: int) -> ReplaySettings:
    config = EngineConfig.model_validate(
        {"kill": {"latch_path": workdir / "k.json"}, "audit_dir": workdir / "audit"}
    )
    return ReplaySettings(config, roomy_risk(quotes), BIG_PLAN)


def dense_tape(rfqs: int = 20_000, per_min: float = 3000.0) -> Tape:
    return parse_frame(_dense(rfqs, per_min), "bench")


def build_curves(curves: DailyCurves, tape: Tape) -> float:
    """Build the curves of every local day the tape is replayed on (the replay reads them from
    the cache); returns the seconds it took."""
    started = time.perf_counter()
    day, last = local_day(tape.start), local_day(tape.end)
    while day <= last:
        curves.at_day(day)
        day += timedelta(days=1)
    return time.perf_counter() - started


def replay_rate(tape: Tape, *, quiet: bool = False) -> float:
    """RFQs a second through the replay alone: the day's curves are built before the clock
    starts (and reported on their own line)."""
    with tempfile.TemporaryDirectory() as work:
        settings = _settings(Path(work), 1_000_000)
        curves = DailyCurves(None, tape.start.date())
        built_s = build_curves(curves, tape)
        started = time.perf_counter()
        done = replay(tape, RunSpec("bench"), AuctionFill(), settings, curves)
        elapsed = time.perf_counter() - started
    if not quiet:
        quoted = done.desk.stats.quotes_sent
        print(f"curve build: {built_s:.2f} s for the tape's day (not in the replay's time)")
        print(
            f"replay: {len(tape):,} RFQs in {elapsed:.2f} s = {len(tape) / elapsed:,.0f} RFQs/s "
            f"on one core ({quoted:,} quoted, {done.steps:,} steps)"
        )
    return len(tape) / elapsed


def decision_rate(tape: Tape) -> float:
    """RFQs a second through the decision alone on the same RFQs: strategy, delivery, risk
    checks and book, no engine, no venue, no event loop."""
    curves = DailyCurves(None, tape.start.date())
    build_curves(curves, tape)
    started = time.perf_counter()
    quoted = decide_all(tape, roomy_risk(1_000_000), curves)
    elapsed = time.perf_counter() - started
    print(
        f"decision: {len(tape):,} RFQs in {elapsed:.2f} s = {len(tape) / elapsed:,.0f} RFQs/s "
        f"(strategy + delivery + risk checks + book; {quoted:,} would be quoted)"
    )
    return len(tape) / elapsed


def rate(rfqs: int = 20_000, per_min: float = 3000.0) -> float:
    tape = dense_tape(rfqs, per_min)
    print(f"dense tape: {len(tape):,} RFQs arriving at {per_min:g}/min")
    replayed = replay_rate(tape)
    decided = decision_rate(tape)
    print(f"replay / decision: {replayed / decided:.2f} (goal: at least 0.5)")
    return replayed


def _cli_replay_s(tape: Path, out: Path) -> float:
    """Wall time of `quoter backtest replay TAPE --config sample-desk.toml --workers 1`, a
    process of its own: start-up, tape reading, the replay, the tables and the report."""
    command = [sys.executable, "-m", "quoter", "backtest", "replay", str(tape)]
    command += ["--config", str(SAMPLE_DESK), "--workers", "1", "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return elapsed


class MonthRuns:
    """Wall times of the sample month and of its first half, run alternately."""

    def __init__(self, work: Path) -> None:
        self.full = len(read_tape(SAMPLE_TAPE))
        frame = pd.read_parquet(SAMPLE_TAPE).sort_values("created_at", kind="stable")
        self._half_path = work / "first-half.parquet"
        frame.iloc[: len(frame) // 2].to_parquet(self._half_path, index=False)
        self.half = len(read_tape(self._half_path))
        self._work = work
        self.full_s: list[float] = []
        self.half_s: list[float] = []

    def one_pair(self) -> None:
        self.full_s.append(_cli_replay_s(SAMPLE_TAPE, self._work / "full"))
        self.half_s.append(_cli_replay_s(self._half_path, self._work / "half"))

    def marginal(self) -> float:
        """RFQs a second of the second half: the fastest run of each counts."""
        return (self.full - self.half) / (min(self.full_s) - min(self.half_s))

    def describe(self) -> str:
        return (
            f"sample month: {self.full:,} RFQs in {min(self.full_s):.1f} s, its first half "
            f"({self.half:,}) in {min(self.half_s):.1f} s: marginal {self.marginal():,.0f} "
            f"RFQs/s (quoter backtest replay --workers 1, best of {len(self.full_s)})"
        )


def sample_month(rounds: int = 2) -> float:
    """The marginal rate of the shipped sample month: the full tape against its first half,
    so that start-up and the report cancel out and what is left is everything a replay does
    per RFQ and per day (curve builds included)."""
    with tempfile.TemporaryDirectory() as work:
        runs = MonthRuns(Path(work))
        for _ in range(rounds):
            runs.one_pair()
    print(runs.describe())
    return runs.marginal()


def memory(rfqs: int = 1_000_000, per_day: int = 100_000) -> None:
    """Peak RSS of a fresh process that reads a `rfqs`-RFQ tape and replays all of it (every
    RFQ quoted). The engine and simulated venue stay bounded; what grows is the tape's columns
    and the results (a decision row per RFQ and every trade)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "big.parquet"
        started = time.perf_counter()
        write_tape(_long_tape(rfqs, per_day), path)
        made_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        spawn = multiprocessing.get_context("spawn")  # a clean heap: nothing of the writing
        with ProcessPoolExecutor(1, mp_context=spawn) as child:
            figures = child.submit(_read_and_replay, path, Path(work)).result()
    print(
        f"memory: {figures['rfqs']:,}-RFQ tape ({size_mb:,.0f} MiB Parquet, made in {made_s:.0f} s) "
        f"read and validated in {figures['read_s']:.1f} s, peak RSS {figures['rss_read']:,.0f} "
        f"MiB; replayed whole in {figures['replay_s']:.0f} s ({figures['quoted']:,} quoted, "
        f"{figures['rfqs'] / figures['replay_s']:,.0f} RFQs/s), peak RSS "
        f"{figures['rss_peak']:,.0f} MiB"
    )


def _long_tape(rfqs: int, per_day: int) -> pd.DataFrame:
    """`rfqs` synthetic RFQs, `per_day` a trading day, built a day at a time (bounded memory)."""
    per_min = per_day / (9 * 60 + 50)  # the synthetic day is 08:00-17:50 CET
    frames, day, count = [], SAMPLE_START, 0
    while count < rfqs:
        frame = synthetic_tape(1, start=day, per_min=per_min, max_rfqs=rfqs - count, seed=count)
        frames.append(frame)
        count += len(frame)
        day += timedelta(days=1)
    return pd.concat(frames, ignore_index=True)


def _peak_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: a spawned child inherits its
    parent's peak in it, here the parent that built the tape."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def _read_and_replay(path: Path, work: Path) -> dict[str, float]:
    started = time.perf_counter()
    tape = read_tape(path)
    read_s = time.perf_counter() - started
    rss_read = _peak_mib()
    curves = DailyCurves(None, tape.start.date())
    settings = _settings(work, 10**9)
    started = time.perf_counter()
    with progress_bar(f"memory: replaying {len(tape):,} RFQs") as progress:
        done = replay(tape, RunSpec("m"), AuctionFill(), settings, curves, progress)
    return {
        "rfqs": len(tape),
        "read_s": read_s,
        "rss_read": rss_read,
        "replay_s": time.perf_counter() - started,
        "rss_peak": _peak_mib(),
        "quoted": done.desk.stats.quotes_sent,
    }


def sweep(runs: int = 4, days: int = 5) -> None:
    """Sequential against 2 processes; runs long enough (a week of the sample's pace each) that
    process start-up and tape loading do not dominate."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "tape.parquet"
        write_tape(synthetic_tape(days, per_min=2.0), path)
        rfqs = len(read_tape(path))
        jobs = [
            Job(path, RunSpec(f"r{i}", "curve_spread", {"credit_default_eur_mwh": 0.05 * i}))
            for i in range(runs)
        ]
        started = time.perf_counter()
        one_tables = run_jobs(jobs, workers=1)
        one = time.perf_counter() - started
        started = time.perf_counter()
        two_tables = run_jobs(jobs, workers=2)
        two = time.perf_counter() - started
    same = all(one_tables[n].equals(two_tables[n]) for n in one_tables)
    print(
        f"sweep: {runs} runs of a {rfqs:,}-RFQ tape: sequential {one:.1f} s, "
        f"2 processes {two:.1f} s, speed-up x{one / two:.2f} (same tables: {same})"
    )


def run() -> None:
    rate()
    sample_month()
    sweep()
    memory()
