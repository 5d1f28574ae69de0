"""`quoter shadow report`: the live strategy against the shadow, from the audit trail: how
often and by how much they differ, and what the shadow would have won at the venue's prices."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quoter.audit.story import load_records
from quoter.config import load_config
from quoter.engine.shadow import render_report, report


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("shadow", help="shadow quoting: the report")
    actions = parser.add_subparsers(dest="shadow_command", metavar="ACTION", required=True)
    show = actions.add_parser("report", help="compare live and shadow over the audit trail")
    show.add_argument("--dir", type=Path, help="audit trail folder (default: the config's)")
    show.add_argument("--config", type=Path, help="the bot's configuration")
    show.add_argument("--json", action="store_true", help="the report as JSON")
    show.set_defaults(handler=handle_report)


def handle_report(args: argparse.Namespace) -> int:
    directory: Path = args.dir or load_config(args.config).engine.audit_dir
    if not directory.is_dir():
        print(f"quoter shadow report: {directory}: no such folder", file=sys.stderr)
        return 2
    try:
        found = report(load_records(directory))
    except (OSError, ValueError) as error:
        print(f"quoter shadow report: {directory}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(found, indent=2) if args.json else render_report(found))
    return 0
