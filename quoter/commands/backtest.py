"""`quoter backtest TAPE`: replay an RFQ tape through the engine, one run per strategy/parameter
set, and write the tables (Parquet and CSV) and an HTML report; `quoter backtest make-tape`
writes the synthetic sample tape."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from quoter.backtest.driver import RunSpec
from quoter.backtest.report import write_report, write_tables
from quoter.backtest.run import Job, run_jobs, status_line
from quoter.backtest.synth import synthetic_tape
from quoter.backtest.tape import TapeError, read_tape, write_tape
from quoter.commands.price import InputError, parse_params
from quoter.strategies_api import StrategyLoadError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backtest", help="replay an RFQ tape through the engine (or: backtest make-tape)"
    )
    parser.add_argument("tape", help="tape file (Parquet or CSV), or make-tape")
    parser.add_argument("--curves", type=Path, help="curve file or folder; default: synthetic")
    # Both go to one ordered list, so each --param belongs to the --strategy before it.
    parser.add_argument(
        "--strategy",
        dest="runs",
        action=_Tagged,
        default=[],
        help="strategy of one run; repeat for side-by-side runs (default curve_spread)",
    )
    parser.add_argument(
        "--param",
        dest="runs",
        action=_Tagged,
        default=[],
        metavar="KEY=VALUE",
        help="parameter of the run named by the --strategy before it",
    )
    parser.add_argument("--fill", choices=("auction", "logistic"), default="auction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/backtest"))
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    parser.add_argument("--cluster", help="a Dask scheduler address, tcp://host:port")
    parser.add_argument("--days", type=int, default=30, help="make-tape: calendar days")
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


def specs_of(items: list[tuple[str, str]]) -> list[RunSpec]:
    """--strategy NAME --param K=V ... groups, in the order given."""
    groups: list[tuple[str, list[str]]] = []
    for option, value in items:
        if option == "--strategy":
            groups.append((value, []))
        else:
            if not groups:
                groups.append(("curve_spread", []))
            groups[-1][1].append(value)
    groups = groups or [("curve_spread", [])]
    return [
        RunSpec(f"{i}:{name}", name, parse_params(params))
        for i, (name, params) in enumerate(groups)
    ]


def run_backtest(args: argparse.Namespace) -> int:
    if args.tape == "make-tape":
        out = args.out if args.out.suffix else Path("backtests/sample-tape.parquet")
        write_tape(synthetic_tape(args.days, seed=args.seed or 7), out)
        print(f"wrote {out}")
        return 0
    try:
        tape = read_tape(Path(args.tape))
        specs = specs_of(args.runs)
    except (TapeError, InputError) as error:
        print(f"quoter backtest: {error}", file=sys.stderr)
        return 2
    for problem in tape.problems:
        print(f"refused: {problem}", file=sys.stderr)
    jobs = [Job(Path(args.tape), s, args.fill, args.seed, args.curves) for s in specs]
    try:
        tables = run_jobs(
            jobs, workers=args.workers, cluster=args.cluster, progress=status_line("replay")
        )
    except (StrategyLoadError, RuntimeError, ValueError) as error:
        print(f"quoter backtest: {error}", file=sys.stderr)
        return 2
    write_tables(tables, args.out)
    report = write_report(tables, args.out, f"backtest of {args.tape}")
    print(tables["summary"].T.to_string(header=False))
    print(f"report: {report}")
    return 0
