"""`quoter deadman`: the dead-man's switch by hand (`quoter run --config` starts its own, as a
`python -m quoter.engine.deadman` child that imports far less than this command line)."""

from __future__ import annotations

import argparse

from quoter.engine import deadman


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "deadman", help="withdraw every live quote when the bot's heartbeat stops"
    )
    deadman.add_arguments(parser)
    parser.set_defaults(handler=deadman.run)
