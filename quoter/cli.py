"""The `quoter` command: finds the sub-commands in `quoter.commands` and runs the one asked for.

A command's module is imported only when that command runs: `quoter kill` must act in a
fraction of a second, and importing every command would load the backtest's whole stack
(pandas, matplotlib, dask) first. `COMMANDS` names the module of each command for that."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from quoter import __version__
from quoter.basics.errors import ConfigError

Handler = Callable[[argparse.Namespace], int]
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell tool whose reader went away ends with
DESCRIPTION = """\
quoter answers requests for quotes on entender, enmacc's RFQ venue for European power and gas,
for a dealer's desk: it watches the open RFQs, prices each with a pluggable strategy from the
desk's forward curves, checks the price against the desk's limits and sends the quote, within
the venue's usage plan, with a kill switch and an audit trail."""
EPILOG = """\
start here:
  quoter run                     quote the built-in sandbox (no configuration, no credentials)
  quoter run --config FILE       quote the venue in FILE (config/example.toml documents it)
  quoter status / kill / resume  the running bot's state; stop it and withdraw every quote
  quoter price RFQ.json          price one RFQ offline and see why

`quoter COMMAND --help` describes each command; README.md and docs/ the rest."""

# Each command and the module in `quoter.commands` that registers it; a test checks that the
# modules register exactly these.
COMMANDS: Mapping[str, str] = {
    "alert-inbox": "alert_inbox",
    "audit": "audit",
    "backtest": "backtest",
    "curves": "curves",
    "deadman": "deadman",
    "kill": "killswitch",
    "price": "price",
    "resume": "killswitch",
    "run": "run",
    "sandbox": "sandbox",
    "shadow": "shadow",
    "status": "status",
    "strategies": "strategies",
    "swap": "swap",
    "trades": "trades",
}


def command_modules(argv: Sequence[str]) -> list[str]:
    """The modules to import for `argv`: the named command's alone; every one when no known
    command is named (`quoter --help`, a typo), so help and errors list them all."""
    named = next((arg for arg in argv if not arg.startswith("-")), "")
    module = COMMANDS.get(named)
    return [module] if module else sorted(set(COMMANDS.values()))


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv` (None: every command)."""
    parser = argparse.ArgumentParser(
        prog="quoter",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"quoter {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_modules([] if argv is None else argv):
        importlib.import_module(f"quoter.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    handler: Handler = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()  # here, not at exit: a reader gone is answered below, not in a trace
        return code
    except BrokenPipeError:
        # The reader went away (`quoter status | head -1`): nothing more is said to it, and
        # nothing is left to flush at exit. The exit status is a pipe's, as a shell tool's.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
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
