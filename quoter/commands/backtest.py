"""`quoter backtest TAPE`: replay an RFQ tape through the engine, one run per strategy/parameter
set (or per run of a `--sweep` file), and write the tables (Parquet and CSV) and an HTML report.
`quoter backtest make-tape` writes the synthetic sample tape; `quoter backtest record` exports a
contract venue's RFQs and our trades in them as a tape."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quoter.audit.story import load_records
from quoter.backtest.calibrate import CalibrationError, calibrate
from quoter.backtest.driver import RunSpec
from quoter.backtest.report import write_report, write_tables
from quoter.backtest.run import (
    CONNECT_TIMEOUT_S,
    ClusterError,
    CurveFilesError,
    Job,
    run_jobs,
    status_line,
)
from quoter.backtest.sweep import SweepError, load_sweep
from quoter.backtest.synth import synthetic_tape
from quoter.backtest.tape import TapeError, read_tape, write_tape
from quoter.commands._backtest_fit import add_fit_arguments, write_fit_file
from quoter.commands._backtest_record import add_record_arguments, record
from quoter.commands.price import InputError, parse_params
from quoter.config import (
    ConfigError,
    QuoterConfig,
    load_config,
    require_risk,
)
from quoter.strategies_api import StrategyLoadError

RUN_OUT = Path("var/backtest")
SAMPLE_TAPE = Path("backtests/sample-tape.parquet")
DEFAULT_STRATEGY: tuple[str, Mapping[str, object]] = ("curve_spread", {})


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "backtest", help="replay an RFQ tape through the engine (or: make-tape, record)"
    )
    parser.add_argument("tape", help="tape file (Parquet or CSV), or make-tape, record, calibrate")
    parser.add_argument("--curves", type=Path, help="curve file or folder; default: synthetic")
    # Both go to one ordered list, so each --param belongs to the --strategy before it.
    parser.add_argument(
        "--strategy",
        dest="runs",
        action=_Tagged,
        default=[],
        help="strategy of one run; repeat for side-by-side runs "
        "(default: the --config desk's strategy, else curve_spread)",
    )
    parser.add_argument(
        "--param",
        dest="runs",
        action=_Tagged,
        default=[],
        metavar="KEY=VALUE",
        help="parameter of the run named by the --strategy before it (before any --strategy: "
        "of the default strategy, over the desk's configured parameters)",
    )
    parser.add_argument("--sweep", type=Path, metavar="FILE", help="runs from a TOML sweep file")
    parser.add_argument("--fill", choices=("auction", "logistic"), default="auction")
    parser.add_argument(
        "--logistic",
        type=_pair,
        metavar="A,B",
        help="the logistic model's parameters (default: fills.DEFAULT_LOGISTIC); "
        "calibrate --audit DIR fits them on the desk's own quotes",
    )
    parser.add_argument("--audit", type=Path, metavar="DIR", help="calibrate: a live audit trail")
    add_fit_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, help=f"results folder (default {RUN_OUT}); make-tape, record: the tape"
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    parser.add_argument("--cluster", help="a Dask scheduler address, tcp://host:port")
    parser.add_argument(
        "--cluster-timeout",
        type=float,
        default=CONNECT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up reaching the scheduler after this (default {CONNECT_TIMEOUT_S:g})",
    )
    parser.add_argument("--days", type=int, default=30, help="make-tape: calendar days")
    parser.add_argument(
        "--config",
        type=Path,
        help="the desk's configuration (TOML, as for quoter run): a replay takes its [risk], "
        "usage plan, [engine] settings and (without --strategy) its strategy, which leading "
        "--param's update; record: its venue",
    )
    add_record_arguments(parser)
    parser.set_defaults(handler=run_backtest)


class _Tagged(argparse.Action):
    """Appends (option, value) to one list shared by --strategy and --param, keeping order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = [*getattr(namespace, self.dest, []), (option_string, values)]
        setattr(namespace, self.dest, items)


def specs_of(
    items: list[tuple[str, str]], default: tuple[str, Mapping[str, object]] = DEFAULT_STRATEGY
) -> list[RunSpec]:
    """--strategy NAME --param K=V ... groups, in the order given. --param's before any
    --strategy, or no options at all, make a run of `default` (with --config the desk's
    strategy), its parameters updated by the given ones."""
    groups: list[tuple[str, Mapping[str, object], list[str]]] = []
    for option, value in items:
        if option == "--strategy":
            groups.append((value, {}, []))
        else:
            if not groups:
                groups.append((*default, []))
            groups[-1][2].append(value)
    groups = groups or [(*default, [])]
    return [
        RunSpec(f"{i}:{name}", name, updated(base, parse_params(params)))
        for i, (name, base, params) in enumerate(groups)
    ]


def updated(base: Mapping[str, object], given: Mapping[str, object]) -> dict[str, object]:
    """`base` with the `given` parameters over it; a nested table is updated key by key, as a
    dotted --param names one key in it."""
    merged = dict(base)
    for key, value in given.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = updated(old, value)
        else:
            merged[key] = value
    return merged


def run_backtest(args: argparse.Namespace) -> int:
    if args.tape == "make-tape":
        out = args.out or SAMPLE_TAPE
        write_tape(synthetic_tape(args.days, seed=args.seed or 7), out)
        print(f"wrote {out}")
        return 0
    if args.tape == "record":
        return record(args)
    if args.tape == "calibrate":
        return calibrate_fills(args)
    return replay(args)


def calibrate_fills(args: argparse.Namespace) -> int:
    """Fit the logistic fill model on the one-way quotes and outcomes of a live audit trail."""
    directory: Path | None = args.audit
    if directory is None or not directory.exists():
        return _fail(InputError("calibrate needs --audit DIR: the audit trail of a live run"))
    if args.fit_out is not None:
        return write_fit_file(args, directory)
    try:
        fitted = calibrate(load_records(directory))
    except CalibrationError as error:
        return _fail(f"{directory}: {error}")
    print(
        f"a={fitted.a:.4f} b={fitted.b:.4f} from {fitted.quotes} one-way quotes "
        f"({fitted.won} won) in {directory}\n"
        f"replay with: --fill logistic --logistic {fitted.a:.4f},{fitted.b:.4f}"
    )
    return 0


def replay(args: argparse.Namespace) -> int:
    try:
        if args.sweep is not None and args.runs:
            raise InputError("--sweep and --strategy/--param: give the runs one way")
        config = None if args.config is None else load_config(args.config)
        if args.sweep is not None:
            specs = load_sweep(args.sweep)
        else:
            specs = specs_of(args.runs, DEFAULT_STRATEGY if config is None else _live(config))
        desk = {} if config is None else _desk(config, str(args.config))
        if args.logistic is not None and args.fill != "logistic":
            raise InputError("--logistic sets the logistic model's parameters: add --fill logistic")
        tape = read_tape(Path(args.tape))
    except (TapeError, InputError, SweepError, ConfigError) as error:
        return _fail(error)
    for problem in tape.problems:
        print(f"refused: {problem}", file=sys.stderr)
    fill = {"fill": args.fill, "seed": args.seed, "logistic": args.logistic}
    jobs = [Job(Path(args.tape), s, curves=args.curves, **fill, **desk) for s in specs]
    try:
        tables = run_jobs(
            jobs,
            tape,  # read once: runs in this process replay it, workers read it by path
            workers=args.workers,
            cluster=args.cluster,
            connect_timeout_s=args.cluster_timeout,
            progress=status_line("replay"),
        )
    except (ClusterError, StrategyLoadError, TapeError, CurveFilesError) as error:
        return _fail(error)  # anything else is a bug: its traceback is wanted
    out = args.out or RUN_OUT
    write_tables(tables, out)
    report = write_report(tables, out, f"backtest of {args.tape}")
    print(tables["summary"].T.to_string(header=False))
    print(f"report: {report}")
    return 0


def _desk(config: QuoterConfig, source: str) -> dict[str, Any]:
    """The desk's limits, usage plan and engine settings, as `quoter run` reads them (its [risk]
    section is required); a replay without --config keeps the demo's."""
    risk = require_risk(config, source)
    return {"risk": risk, "usage_plan": config.venue.usage_plan, "engine": config.engine}


def _live(config: QuoterConfig) -> tuple[str, Mapping[str, object]]:
    """The desk's own strategy and its configured parameters."""
    return config.engine.strategy.name, config.engine.strategy.params


def _fail(error: Exception | str, code: int = 2) -> int:
    print(f"quoter backtest: {error}", file=sys.stderr)
    return code


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give two numbers, A,B") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise argparse.ArgumentTypeError(f"{text!r}: give two finite numbers")
    return a, b
