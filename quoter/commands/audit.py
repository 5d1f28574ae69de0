"""`quoter audit verify PATH` proves the trail intact or names its first bad record;
`quoter audit explain RFQ_ID` tells one RFQ's story from the trail."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from quoter.audit.story import load_records, render_json, render_text, story
from quoter.audit.verify import verify
from quoter.config import load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", help="verify the audit trail, explain an RFQ")
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    check = commands.add_parser(
        "verify", help="prove the trail intact, or name the first bad record"
    )
    check.add_argument("path", type=Path, help="a directory of daily files, or one file")
    check.add_argument(
        "--strict", action="store_true", help="a torn last line (a crash mid-write) fails too"
    )
    check.set_defaults(handler=handle_verify)
    explain = commands.add_parser("explain", help="one RFQ's whole story from the trail")
    explain.add_argument("rfq_id", metavar="RFQ_ID")
    explain.add_argument("--dir", type=Path, help="the trail (default: the configuration's)")
    explain.add_argument("--config", type=Path, help="the bot's configuration (for the trail)")
    explain.add_argument("--json", action="store_true", help="JSON instead of plain words")
    explain.set_defaults(handler=handle_explain)


def handle_verify(args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.exists():
        print(f"quoter audit verify: {path}: no such file or directory", file=sys.stderr)
        return 2
    result = verify(path)
    print(result.summary())
    if not result.intact or (args.strict and result.torn is not None):
        return 1
    return 0


def handle_explain(args: argparse.Namespace) -> int:
    directory: Path = args.dir or load_config(args.config).engine.audit_dir
    if not directory.exists():
        print(f"quoter audit explain: {directory}: no audit trail there", file=sys.stderr)
        return 2
    events = story(load_records(directory), args.rfq_id)
    if args.json:
        sys.stdout.buffer.write(render_json(args.rfq_id, events) + b"\n")
    else:
        print(render_text(args.rfq_id, events))
    return 0 if events else 1
