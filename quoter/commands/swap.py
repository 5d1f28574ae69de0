"""`quoter swap NAME [--param K=V ...]`: replace the running bot's strategy or its parameters
without a restart. The bot loads and validates it first; a refusal leaves the old one quoting."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quoter.admin.client import AdminClient, AdminError, AdminRefused
from quoter.admin.config import AdminTokenError
from quoter.commands.price import InputError, parse_params
from quoter.config import load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("swap", help="swap the running bot's strategy or parameters")
    parser.add_argument("name", help="built-in, entry point or package.module:attribute")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy parameter; VALUE is JSON or text; KEY may be dotted",
    )
    parser.add_argument("--config", type=Path, help="the bot's configuration (admin address)")
    parser.set_defaults(handler=handle_swap)


def handle_swap(args: argparse.Namespace) -> int:
    try:
        params = parse_params(args.param)
    except InputError as error:
        print(f"quoter swap: {error}", file=sys.stderr)
        return 2
    try:
        answer = AdminClient.from_config(load_config(args.config).admin).swap(args.name, params)
    except AdminRefused as error:
        print(f"quoter swap: refused, the old strategy goes on quoting: {error}", file=sys.stderr)
        return 2
    except (AdminError, AdminTokenError) as error:
        print(f"quoter swap: {error}", file=sys.stderr)
        return 1
    old, new = answer["old"], answer["new"]
    print(f"swapped {old['name']} {json.dumps(old['params'])}{_version(old)}")
    print(f"   to   {new['name']} {json.dumps(new['params'])}{_version(new)}")
    return 0


def _version(described: dict[str, object]) -> str:
    """The strategy's version as the trail records it; an older bot's answer has none."""
    version = described.get("version")
    return "" if version is None else f" version {version}"
