"""`quoter status`: the running bot's status, from its admin interface."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quoter.admin.client import AdminClient, AdminError
from quoter.admin.config import AdminTokenError
from quoter.commands.killswitch import not_the_bots_latch
from quoter.config import load_config
from quoter.engine.killswitch import LatchError, kill_lines, kill_to_json, read_latch
from quoter.engine.status import render_status


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("status", help="the running bot's status")
    parser.add_argument("--config", type=Path, help="the bot's configuration (admin address)")
    parser.add_argument("--json", action="store_true", help="the status as JSON")
    parser.set_defaults(handler=handle_status)


def handle_status(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        status = AdminClient.from_config(config.admin).status()
    except (AdminError, AdminTokenError) as error:
        print(f"quoter status: {error}", file=sys.stderr)
        print(_latched(config.engine.kill.latch_path), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(render_status(status))
    return 0


def _latched(latch: Path) -> str:
    """What the kill-switch file holds, for a bot that does not answer (hung, or stopped):
    the kills a restart, or the bot waking, takes in."""
    elsewhere = not_the_bots_latch(latch)
    if elsewhere is not None:
        return f"quoter status: {elsewhere}"
    try:
        kills = read_latch(latch)
    except LatchError as error:
        return f"quoter status: {error}"
    if not kills:
        return f"quoter status: no kill latched in {latch}"
    lines = kill_lines([kill_to_json(k) for k in kills])
    return f"quoter status: latched in {latch}:\n" + "\n".join(lines)
