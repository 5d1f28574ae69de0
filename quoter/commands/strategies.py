"""`quoter strategies [NAME ...]`: the strategies this installation knows (the built-ins and the
entry points of `quoter.strategies`), or the ones named, each with its one-line summary and
every parameter's type, default and bounds. `--json` for machines."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from quoter.basics.errors import ConfigError
from quoter.config import load_config
from quoter.strategies_api import StrategyLoadError
from quoter.strategies_api.describe import (
    StrategyInfo,
    bounds_text,
    describe_strategy,
    installed_strategies,
)
from quoter.strategy_paths import use_strategy_folders

NESTED = "another strategy: inner=NAME, or inner.name=NAME and inner.params.KEY=VALUE"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "strategies", help="list the strategies and their parameters (types, defaults, bounds)"
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="built-in, entry point or package.module:attribute (default: every installed one)",
    )
    parser.add_argument(
        "--config", type=Path, help="a desk's configuration: its [strategies] paths are searched"
    )
    parser.add_argument("--json", action="store_true", help="as JSON, one object per strategy")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        use_strategy_folders(load_config(args.config).strategies)
        found = [describe_strategy(n) for n in args.names] or installed_strategies()
    except (StrategyLoadError, ConfigError) as error:
        print(f"quoter strategies: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([dataclasses.asdict(info) for info in found], indent=2))
    else:
        print("\n\n".join(render(info) for info in found))
    return 0


def render(info: StrategyInfo) -> str:
    """One strategy for people: a heading, then a line per parameter."""
    head = f"{info.name} ({info.source})" + (f": {info.summary}" if info.summary else "")
    if info.error is not None:
        return f"{head}\n    cannot be loaded: {info.error}"
    if not info.parameters:
        return f"{head}\n    (no parameters)"
    lines = [head]
    for p in info.parameters:
        if p.strategy:
            value = "required" if p.required else f"default {json.dumps(p.default)}"
            lines.append(f"    {p.name}: strategy, {value}: {NESTED.replace('inner', p.name)}")
            continue
        value = "(required)" if p.required else f"= {json.dumps(p.default)}"
        about = f"  ({p.description})" if p.description else ""
        lines.append(f"    {p.name}: {p.type}{bounds_text(p.bounds)} {value}{about}")
    return "\n".join(lines)
