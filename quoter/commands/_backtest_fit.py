"""`quoter backtest calibrate --fit-out FILE` (from `--audit DIR`, or from `--replay DIR --tape
TAPE`): the win curve by segment of the desk's own quotes, live or replayed, written as the fit
file the `win_curve` strategy quotes from (with its reliability diagram beside it), and the
fit's quality per segment printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from quoter.audit.story import load_records
from quoter.backtest.calibrate import CalibrationError, quote_observations
from quoter.backtest.segments import (
    DEFAULT_PRIOR_WEIGHT,
    Quoted,
    from_replay,
    from_trail,
    write_segment_fit,
)
from quoter.backtest.tape import TapeError, read_tape
from quoter.clock import SystemClock
from quoter.commands._flags import NOT_NEGATIVE, number

REPLAY_TABLES = ("decisions.parquet", "fills.parquet")


def add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fit-out",
        type=Path,
        metavar="FILE",
        help="fit the win curve by segment and write it (JSON) for win_curve",
    )
    parser.add_argument(
        "--prior-weight",
        type=number(NOT_NEGATIVE),
        default=DEFAULT_PRIOR_WEIGHT,
        metavar="N",
        help="with --fit-out: the pooled fit's weight on each segment, in quotes "
        f"(default {DEFAULT_PRIOR_WEIGHT:g})",
    )
    parser.add_argument(
        "--by-counterparty",
        action="store_true",
        help="with --fit-out: segment by counterparty too (those with enough quotes)",
    )


def write_fit_file(args: argparse.Namespace) -> int:
    """The fit from the trail of `--audit`, or from the results of `--replay` and its `--tape`."""
    if args.replay is not None:
        found = _replayed(args.replay, args.tape)
        if isinstance(found, str):
            return _fail(found)
        quoted, source = found, f"replay {args.replay} of {args.tape}"
    else:
        source = f"audit trail {args.audit}"
        try:
            quoted = from_trail(quote_observations(load_records(args.audit)))
        except CalibrationError as error:  # a record the codec refuses, named
            return _fail(f"{source}: {error}")
    try:
        written = write_segment_fit(
            quoted,
            args.fit_out,
            source=source,
            created_at=SystemClock().now(),
            prior_weight=args.prior_weight,
            by_counterparty=args.by_counterparty,
        )
    except CalibrationError as error:
        return _fail(f"{source}: {error}")
    print("\n".join(written.lines))
    return 0


def _replayed(folder: Path, tape_path: Path | None) -> list[Quoted] | str:
    """The quotes of a replay's results folder and their outcomes, or what is missing."""
    if tape_path is None:
        return "--replay needs --tape: the tape that replay ran (its report names it)"
    missing = [name for name in REPLAY_TABLES if not (folder / name).is_file()]
    if missing:
        return f"--replay {folder}: no {', '.join(missing)}: not a replay's results folder"
    try:
        tape = read_tape(tape_path)
    except TapeError as error:
        return str(error)
    decisions, fills = (pd.read_parquet(folder / name) for name in REPLAY_TABLES)
    unknown = set(decisions.rfq_id) - {entry.id for entry in tape}
    if unknown:
        return (
            f"--replay {folder}: {len(unknown)} of its RFQs are not in {tape_path}: "
            "give the tape that replay ran"
        )
    return from_replay(decisions, fills, tape)


def _fail(message: str) -> int:
    print(f"quoter backtest calibrate: {message}", file=sys.stderr)
    return 2
