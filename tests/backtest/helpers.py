"""Small tapes and runs for the backtest tests."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from quoter.backtest.curves import DailyCurves, StaticCurves
from quoter.backtest.driver import Replayed, ReplaySettings, RunSpec, replay
from quoter.backtest.fills import FillModel
from quoter.backtest.inputs import Inputs, inputs_of
from quoter.backtest.synth import SAMPLE_START, synthetic_tape
from quoter.backtest.tape import Tape, parse_frame
from quoter.engine.config import EngineConfig
from quoter.engine.hours import TradingHoursConfig
from quoter.risk.config import DEMO_RISK


@functools.cache
def _synthetic_day(start: date, per_min: float, seed: int) -> pd.DataFrame:
    return synthetic_tape(1, start=start, per_min=per_min, seed=seed)


def synthetic_day(start: date = SAMPLE_START, per_min: float = 2.0, seed: int = 7) -> pd.DataFrame:
    """`synthetic_tape(1, ...)`, made once a session for each set of arguments (a day's tape
    takes most of a second, and some thirty tests cut theirs from the same few): a copy, for
    the caller to change as it likes."""
    return _synthetic_day(start, per_min, seed).copy()


def short_tape(minutes: float = 20.0, per_min: float = 4.0, seed: int = 7) -> pd.DataFrame:
    frame = synthetic_day(per_min=per_min, seed=seed)
    first = frame.created_at.min()
    kept: pd.DataFrame = frame[frame.created_at < first + pd.Timedelta(minutes=minutes)]
    return kept.reset_index(drop=True)


def run(
    tape: Tape,
    fills: FillModel,
    tmp_path: Path,
    curves: StaticCurves | DailyCurves | None = None,
    spec: RunSpec | None = None,
) -> Replayed:
    curves = curves or DailyCurves(None, tape.start.date())
    return replay(tape, spec or RunSpec("t"), fills, settings(tmp_path), curves)


def settings(tmp_path: Path) -> ReplaySettings:
    config = EngineConfig.model_validate(
        {"kill": {"latch_path": tmp_path / "k.json"}, "audit_dir": tmp_path / "audit"}
    )
    return ReplaySettings(config, DEMO_RISK)


def tape_of(frame: pd.DataFrame) -> Tape:
    return parse_frame(frame, "test-tape")


def inputs_for(tape: Tape, **overrides: object) -> Inputs:
    """A report's inputs for `tape`, as a replay without options states them."""
    given: dict[str, Any] = {
        "curves": None,
        "desk": None,
        "hours": TradingHoursConfig(),
        "fill": "auction",
        "logistic": None,
        "seed": 0,
        "version": "0.0-test",
        "ran_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    }
    return inputs_of(Path(tape.source), tape, **{**given, **overrides})
