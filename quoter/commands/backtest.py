"""`quoter backtest replay TAPE`: replay an RFQ tape through the engine, one run per
strategy/parameter set (or per run of a `--sweep` file), and write the tables (Parquet and CSV)
and an HTML report. `make-tape` writes the synthetic sample tape, `record` exports a contract
venue's RFQs and our trades in them as a tape, `calibrate` fits the logistic fill model."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quoter import __version__
from quoter.audit.story import load_records
from quoter.backtest.calibrate import CalibrationError, calibrate
from quoter.backtest.driver import RunSpec
from quoter.backtest.inputs import inputs_of
from quoter.backtest.progress import progress_bar
from quoter.backtest.report import summary_text, write_report, write_tables
from quoter.backtest.run import (
    CONNECT_TIMEOUT_S,
    DEFAULT_ENGINE,
    ClusterError,
    CurveFilesError,
    Job,
    run_jobs,
)
from quoter.backtest.sweep import SweepError, distinct, load_sweep, run_label
from quoter.backtest.synth import synthetic_tape
from quoter.backtest.tape import SUFFIXES as TAPE_SUFFIXES
from quoter.backtest.tape import TapeError, read_tape, write_tape
from quoter.basics.errors import ConfigError
from quoter.clock import SystemClock
from quoter.commands._backtest_fit import add_fit_arguments, write_fit_file
from quoter.commands._backtest_record import add_record_arguments, record
from quoter.commands._flags import AT_LEAST_ONE, POSITIVE, number, whole
from quoter.commands.price import DEFAULT_STRATEGY_NAME, InputError, parse_params, updated
from quoter.config import QuoterConfig, load_config, require_risk
from quoter.strategies_api import StrategyLoadError
from quoter.strategy_paths import StrategiesConfig, use_strategy_folders

RUN_OUT = Path("var/backtest")
SAMPLE_TAPE = Path("backtests/sample-tape.parquet")
DEFAULT_STRATEGY: tuple[str, Mapping[str, object]] = (DEFAULT_STRATEGY_NAME, {})


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "backtest",
        help="replay RFQ tapes through the engine; make, record tapes; calibrate fills",
        description="Replay an RFQ tape through the engine, make or record tapes, and fit the "
        "logistic fill model on the desk's own quotes.",
    )
    actions = parser.add_subparsers(
        dest="backtest_command", metavar="ACTION", required=True, action=_Actions
    )
    _add_replay(actions)
    make = _action(actions, "make-tape", "write the synthetic sample tape")
    make.add_argument("--days", type=whole(AT_LEAST_ONE), default=30, help="calendar days of RFQs")
    make.add_argument("--seed", type=int, default=7, help="the generator's seed")
    make.add_argument("--out", type=Path, default=SAMPLE_TAPE, help="the tape to write")
    make.set_defaults(handler=make_tape)
    recorder = _action(actions, "record", "export a venue's RFQs and our trades as a tape")
    add_record_arguments(recorder)
    recorder.set_defaults(handler=record)
    fit = _action(
        actions,
        "calibrate",
        "fit the logistic fill model, or the win curve by segment, on the desk's own quotes",
    )
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--audit", type=Path, metavar="DIR", help="the audit trail of a live run")
    source.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="with --fit-out: a replay's results folder (its decisions and fills), with --tape",
    )
    fit.add_argument("--tape", type=Path, metavar="TAPE", help="with --replay: the tape it ran")
    add_fit_arguments(fit)
    fit.set_defaults(handler=calibrate_fills)


def _add_replay(actions: Any) -> None:
    parser = _action(actions, "replay", "replay a tape, one run per strategy or sweep run")
    parser.add_argument("tape", type=Path, help="the tape file (Parquet or CSV)")
    parser.add_argument(
        "--curves", type=Path, metavar="PATH", help="curve file or folder (default: synthetic)"
    )
    # Both go to one ordered list, so each --param belongs to the --strategy before it.
    parser.add_argument(
        "--strategy",
        dest="runs",
        action=_Tagged,
        default=[],
        metavar="NAME",
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
    parser.add_argument(
        "--fill", choices=("auction", "logistic"), default="auction", help="the fill model"
    )
    parser.add_argument(
        "--logistic",
        type=_pair,
        metavar="A,B",
        help="the logistic model's parameters (default: fills.DEFAULT_LOGISTIC); "
        "quoter backtest calibrate fits them on the desk's own quotes",
    )
    parser.add_argument("--seed", type=int, default=0, help="the fill model's seed")
    parser.add_argument("--out", type=Path, default=RUN_OUT, help="the results folder")
    parser.add_argument(
        "--workers", type=whole(AT_LEAST_ONE), default=1, help="parallel processes (1 or more)"
    )
    parser.add_argument("--cluster", metavar="ADDRESS", help="a Dask scheduler, tcp://host:port")
    parser.add_argument(
        "--cluster-timeout",
        type=number(POSITIVE),
        default=CONNECT_TIMEOUT_S,
        metavar="SECONDS",
        help="give up reaching the scheduler after this",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="the desk's configuration (TOML, as for quoter run): its [risk], usage plan, "
        "[engine] settings and (without --strategy) its strategy, which leading --param's "
        "update (default: the demo's limits)",
    )
    parser.set_defaults(handler=replay)


def _action(actions: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=text, description=text[0].upper() + text[1:] + ".", formatter_class=_Defaults
    )
    return parser


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help with each option's default, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, []) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Actions(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The actions of `quoter backtest`. A tape given where the action goes (the old form,
    `quoter backtest TAPE`) is answered in one line with the command that replays it: argparse
    checks a name against `choices` before calling the action, so they let a tape through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _ActionNames()

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name = values[0]
        if not dict.__contains__(self.choices, name):
            parser.exit(2, f"quoter backtest: to replay a tape: quoter backtest replay {name}\n")
        super().__call__(parser, namespace, values, option_string)


class _ActionNames(dict[str, argparse.ArgumentParser]):
    """The actions by name; a tape file's name passes the check too (see `_Actions`)."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or Path(str(name)).suffix in TAPE_SUFFIXES


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
    """--strategy NAME --param K=V ... groups, in the order given, each labelled by its
    strategy and the parameters given. --param's before any --strategy, or no options at all,
    make a run of `default` (with --config the desk's strategy), its parameters updated by the
    given ones."""
    groups: list[tuple[str, Mapping[str, object], list[str]]] = []
    for option, value in items:
        if option == "--strategy":
            groups.append((value, {}, []))
        else:
            if not groups:
                groups.append((*default, []))
            groups[-1][2].append(value)
    groups = groups or [(*default, [])]
    specs = []
    for name, base, params in groups:
        given = parse_params(params)
        specs.append(RunSpec(run_label(name, given), name, updated(base, given)))
    return distinct(specs)


def make_tape(args: argparse.Namespace) -> int:
    write_tape(synthetic_tape(args.days, seed=args.seed), args.out)
    print(f"wrote {args.out}")
    return 0


def calibrate_fills(args: argparse.Namespace) -> int:
    """Fit the logistic fill model on the one-way quotes and outcomes of a live audit trail."""
    if args.replay is not None and args.fit_out is None:
        return _fail(InputError("calibrate --replay fits the win curve: give --fit-out FILE"))
    directory: Path = args.audit if args.replay is None else args.replay
    if not directory.exists():
        return _fail(InputError(f"calibrate {directory}: no such folder"))
    if args.fit_out is not None:
        return write_fit_file(args)
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
        folders = use_strategy_folders(StrategiesConfig() if config is None else config.strategies)
        if args.sweep is not None:
            specs = load_sweep(args.sweep)
        else:
            specs = specs_of(args.runs, DEFAULT_STRATEGY if config is None else _live(config))
        desk = {} if config is None else _desk(config, str(args.config))
        if args.logistic is not None and args.fill != "logistic":
            raise InputError("--logistic sets the logistic model's parameters: add --fill logistic")
        tape = read_tape(args.tape)
        _results_folder(args.out)  # before the replay: its results are not lost at the end
    except (TapeError, InputError, SweepError, ConfigError) as error:
        return _fail(error)
    fill = {"fill": args.fill, "seed": args.seed, "logistic": args.logistic}
    jobs = [
        Job(args.tape, s, curves=args.curves, strategy_folders=folders, **fill, **desk)
        for s in specs
    ]
    try:
        with progress_bar("replay") as progress:
            tables = run_jobs(
                jobs,
                tape,  # read once: runs in this process replay it, workers read it by path
                workers=args.workers,
                cluster=args.cluster,
                connect_timeout_s=args.cluster_timeout,
                progress=progress,
            )
    except (ClusterError, StrategyLoadError, TapeError, CurveFilesError) as error:
        return _fail(error)  # anything else is a bug: its traceback is wanted
    inputs = inputs_of(
        args.tape,
        tape,
        curves=args.curves,
        desk=args.config,
        hours=(DEFAULT_ENGINE if config is None else config.engine).hours,
        fill=args.fill,
        logistic=args.logistic,
        seed=args.seed,
        version=__version__,
        ran_at=SystemClock().now(),
    )
    out: Path = args.out
    write_tables(tables, out)
    report = write_report(tables, out, inputs)
    print(summary_text(tables, inputs))
    print(f"report: {report}")
    return 0


def _results_folder(out: Path) -> None:
    """Refuse a results folder `out` that cannot be made or written (a file there or above it,
    a folder without write permission); made only once there are results to write."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file is there, not a folder for the results")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise InputError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: {existing} cannot be written")


def _desk(config: QuoterConfig, source: str) -> dict[str, Any]:
    """The desk's limits, usage plan, engine settings and curve bands, as `quoter run` reads them (its [risk]
    section is required); a replay without --config keeps the demo's."""
    risk = require_risk(config, source)
    return {
        "risk": risk,
        "usage_plan": config.venue.usage_plan,
        "engine": config.engine,
        "curves_config": config.curves,
    }


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
