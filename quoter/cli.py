"""The `quoter` command: finds the sub-commands in `quoter.commands` and runs the one asked for."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

import quoter.commands
from quoter import __version__
from quoter.config import ConfigError

Handler = Callable[[argparse.Namespace], int]


# `quoter kill` loads its own module only, not every command's (the backtests' pandas and
# matplotlib take seconds): a hung bot's quotes are live while it starts.
ALONE = {"kill": "killswitch"}


def build_parser(alone: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quoter", description=__doc__)
    parser.add_argument("--version", action="version", version=f"quoter {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(quoter.commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_") or alone not in (None, module_info.name):
            continue  # a part of a command, not a command; or not the one asked for
        module = importlib.import_module(f"quoter.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(ALONE.get(words[0]) if words else None)
    args = parser.parse_args(words)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as error:
        print(f"quoter: {error}", file=sys.stderr)
        return 2
    except BaseExceptionGroup as group:
        # A configuration found unusable inside a task group (a port already taken).
        matched, rest = group.split(ConfigError)
        if matched is None or rest is not None:
            raise
        for leaf in _leaves(matched):
            print(f"quoter: {leaf}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _leaves(group: BaseExceptionGroup[ConfigError]) -> list[BaseException]:
    return [
        leaf
        for error in group.exceptions
        for leaf in (_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    ]
