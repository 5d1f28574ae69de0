"""`quoter curves`: build a curve from forward products, write the synthetic curves, or check
curve files the way the bot reads them."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quoter.basics.errors import ConfigError
from quoter.clock import SystemClock
from quoter.commands._flags import NOT_NEGATIVE, Range, number, whole
from quoter.config import load_config
from quoter.pricing.builder import build_curve_set
from quoter.pricing.curve import CurveError, CurveSet
from quoter.pricing.curve_checks import load_vetted
from quoter.pricing.curve_export import write_curve_set
from quoter.pricing.curve_inputs import parse_products, parse_shape
from quoter.pricing.synthetic import synthetic_curve_set

# As `[curves] synthetic_years` bounds it.
SYNTHETIC_YEARS = Range(at_least=0, at_most=10)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("curves", help="build, write and check forward curves")
    actions = parser.add_subparsers(dest="curves_command", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="an arbitrage-free curve from forward products")
    build.add_argument("products", type=Path, help="CSV: commodity,market_area,product,load,price")
    build.add_argument("--shape", type=Path, help="CSV: commodity,month,day_type,hour,factor")
    build.add_argument("--resolution", type=int, choices=(60, 15), default=60, help="minutes")
    build.add_argument(
        "--tolerance",
        type=number(NOT_NEGATIVE),
        default=1e-9,
        help="EUR/MWh by which a product that others determine (a year and its quarters) may "
        "disagree with them and still be accepted",
    )
    _common(build)
    build.set_defaults(handler=run_build)

    synth = actions.add_parser("synth", help="write the built-in synthetic curves")
    synth.add_argument(
        "--years", type=whole(SYNTHETIC_YEARS), default=3, help="calendar years after as_of's"
    )
    synth.add_argument(
        "--seed",
        type=whole(NOT_NEGATIVE),
        default=0,
        help="seed of the synthetic curves (default 0)",
    )
    _common(synth)
    synth.set_defaults(handler=run_synth)

    check = actions.add_parser("check", help="read a curve file or folder and list problems")
    check.add_argument("path", type=Path, help="a curve file, or a folder of them")
    check.add_argument(
        "--config",
        type=Path,
        help="a desk's configuration: its [curves] bands and max_as_of_ahead_s (default: the "
        "built-in ones)",
    )
    check.set_defaults(handler=run_check)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", dest="as_of", type=_instant, help="curve date, ISO with offset")
    parser.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.parquet")


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset or Z")
    return moment.astimezone(UTC)


def _as_of(args: argparse.Namespace) -> datetime:
    as_of: datetime | None = args.as_of
    return as_of if as_of is not None else SystemClock().now()


def _write(curve_set: CurveSet, out: Path) -> int:
    write_curve_set(curve_set, out)
    for (commodity, area), s in sorted(curve_set.items()):
        print(f"{commodity}/{area}: {s.prices.size} intervals of {s.step_s // 60} min")
    print(f"wrote {out} (curve set {curve_set.id})")
    return 0


def _fail(error: Exception) -> int:
    print(f"quoter curves: {error}", file=sys.stderr)
    return 1


def run_build(args: argparse.Namespace) -> int:
    try:
        products = parse_products(args.products.read_text(encoding="utf-8"), str(args.products))
        shapes = None
        if args.shape is not None:
            shapes = parse_shape(args.shape.read_text(encoding="utf-8"), str(args.shape))
        curves = build_curve_set(
            products, _as_of(args), shapes, step_s=args.resolution * 60, tolerance=args.tolerance
        )
        return _write(curves, args.out)
    except (OSError, CurveError) as error:
        return _fail(error)


def run_synth(args: argparse.Namespace) -> int:
    try:
        curve_set = synthetic_curve_set(_as_of(args), years=args.years, seed=args.seed)
        return _write(curve_set, args.out)
    except (OSError, CurveError, ValueError) as error:
        return _fail(error)


def run_check(args: argparse.Namespace) -> int:
    # As the bot would read the files now: a curve in EUR/kWh, out of its band or dated ahead
    # of now is refused here too, not "ok".
    try:
        config = load_config(args.config).curves
    except ConfigError as error:
        print(f"quoter curves check: {error}", file=sys.stderr)
        return 2
    load = load_vetted(args.path, SystemClock().now(), config)
    for (commodity, area), s in sorted(load.curve_set.items()):
        print(f"ok {commodity}/{area}: {s.prices.size} x {s.step_s // 60} min, as_of {s.as_of}")
    for problem in load.problems:
        print(f"refused {problem}", file=sys.stderr)
    return 1 if load.problems else 0
