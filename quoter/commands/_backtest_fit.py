"""`quoter backtest calibrate --audit DIR --fit-out FILE`: the win curve by segment of the
desk's own quotes, written as the fit file the `win_curve` strategy quotes from (with its
reliability diagram beside it), and the fit's quality per segment printed."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from quoter.audit.story import load_records
from quoter.backtest.calibrate import CalibrationError, quote_observations
from quoter.backtest.segments import DEFAULT_PRIOR_WEIGHT, from_trail, write_segment_fit
from quoter.clock import SystemClock


def add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fit-out",
        type=Path,
        metavar="FILE",
        help="fit the win curve by segment and write it (JSON) for win_curve",
    )
    parser.add_argument(
        "--prior-weight",
        type=float,
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


def write_fit_file(args: argparse.Namespace, directory: Path) -> int:
    if not (math.isfinite(args.prior_weight) and args.prior_weight >= 0):
        print("quoter backtest: --prior-weight must be a number >= 0", file=sys.stderr)
        return 2
    try:
        quoted = from_trail(quote_observations(load_records(directory)))
        written = write_segment_fit(
            quoted,
            args.fit_out,
            source=f"audit trail {directory}",
            created_at=SystemClock().now(),
            prior_weight=args.prior_weight,
            by_counterparty=args.by_counterparty,
        )
    except CalibrationError as error:
        print(f"quoter backtest: {directory}: {error}", file=sys.stderr)
        return 2
    print("\n".join(written.lines))
    return 0
