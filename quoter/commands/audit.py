"""`quoter audit verify PATH` proves the trail intact or names its first bad record;
`quoter audit explain RFQ_ID` tells one RFQ's story from the trail."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from quoter.audit.events import EventError
from quoter.audit.key import KEY_VARIABLE, AuditKeyError, load_key
from quoter.audit.story import load_records, render_json, render_text, run_starts, story
from quoter.audit.verify import verify
from quoter.config import load_config

# `verify` exits 0 intact and keyed, 1 broken, 2 unusable arguments or key (no trail at the
# path, a keyed trail and no key), 3 intact but legacy, unkeyed (plain SHA-256: anyone could
# have rewritten it consistently).
UNUSABLE = 2
UNKEYED = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", help="verify the audit trail, explain an RFQ")
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    check = commands.add_parser(
        "verify", help="prove the trail intact, or name the first bad record"
    )
    check.add_argument(
        "path",
        type=Path,
        nargs="?",
        help="a directory of daily files, or one file (default: the configuration's trail; "
        "with no --config the demo's, var/demo/audit)",
    )
    check.add_argument(
        "--strict", action="store_true", help="a torn last line (a crash mid-write) fails too"
    )
    check.add_argument("--config", type=Path, help="the bot's configuration (key file, anchor)")
    check.add_argument("--key-file", type=Path, help=f"the audit key, unless {KEY_VARIABLE} is set")
    check.add_argument("--anchor", type=Path, help="the anchor the bot writes beside the trail")
    check.add_argument(
        "--no-anchor", action="store_true", help="a copy of the trail: no anchor to reach"
    )
    check.set_defaults(handler=handle_verify)
    explain = commands.add_parser("explain", help="one RFQ's whole story from the trail")
    explain.add_argument("rfq_id", metavar="RFQ_ID", help="the RFQ's id, as the venue gives it")
    explain.add_argument(
        "--dir", type=Path, help="the trail (default: the configuration's; no --config: the demo's)"
    )
    explain.add_argument("--config", type=Path, help="the bot's configuration (for the trail)")
    explain.add_argument("--json", action="store_true", help="JSON instead of plain words")
    explain.set_defaults(handler=handle_explain)


def handle_verify(args: argparse.Namespace) -> int:
    path: Path = args.path or load_config(args.config).engine.audit_dir
    if not path.exists():
        print(f"quoter audit verify: {path}: no such file or directory", file=sys.stderr)
        return UNUSABLE
    engine = load_config(args.config).engine
    if args.config is None and path.is_dir():
        engine = engine.model_copy(update={"audit_dir": path})  # its key and anchor beside it
    key_file: Path = args.key_file or engine.audit_key_path
    try:
        key = load_key(key_file, path if path.is_dir() else path.parent, create=False)
    except AuditKeyError as error:
        print(f"quoter audit verify: {error}", file=sys.stderr)
        return UNUSABLE
    anchor = None if args.no_anchor else (args.anchor or engine.audit_anchor_path)
    result = verify(path, key=key, anchor_path=anchor)
    if result.found_nothing:
        where = "no records in its day files" if result.files else "no day files"
        print(
            f"quoter audit verify: {path}: no audit trail there ({where}, "
            "audit-YYYY-MM-DD.jsonl); nothing verified",
            file=sys.stderr,
        )
        return UNUSABLE
    print(result.summary())
    looked = f"{KEY_VARIABLE} unset, no {key_file}"
    if result.needs_key is not None:
        print(
            f"cannot verify without the audit key ({looked}): neither intact nor broken is "
            f"known; set {KEY_VARIABLE} or give --key-file"
        )
        return UNUSABLE
    if key is None:
        print(f"note: no audit key ({looked}): MACs not checked")
    if not result.intact or (args.strict and result.torn is not None):
        return 1
    return UNKEYED if result.unkeyed else 0


def handle_explain(args: argparse.Namespace) -> int:
    directory: Path = args.dir or load_config(args.config).engine.audit_dir
    if not directory.exists():
        print(f"quoter audit explain: {directory}: no audit trail there", file=sys.stderr)
        return 2
    records = list(load_records(directory))
    try:
        events, starts = story(records, args.rfq_id), run_starts(records)
    except EventError as error:
        print(f"quoter audit explain: {directory}: {error}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.buffer.write(render_json(args.rfq_id, events, starts) + b"\n")
    else:
        print(render_text(args.rfq_id, events, starts))
    return 0 if events else 1
