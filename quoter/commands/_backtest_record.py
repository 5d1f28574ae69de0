"""`quoter backtest record`: export a contract venue's RFQs created in a window, and our trades
in them, as a tape, paged through the client within a request budget."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path

from quoter.backtest.record import (
    MAX_REQUESTS,
    RecordingTooLarge,
    VenueRecording,
    shapes_dir_for,
    venue_tape,
)
from quoter.backtest.tape import SUFFIXES as TAPE_SUFFIXES
from quoter.backtest.tape import write_tape
from quoter.clock import SystemClock
from quoter.commands._flags import AT_LEAST_ONE, whole
from quoter.commands.price import InputError
from quoter.config import load_config
from quoter.venue.config import load_credentials
from quoter.venue.errors import VenueError
from quoter.venue.http import HttpVenue

RECENT = timedelta(minutes=10)  # a window ending this close to now may still be changing


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Record a window that has ended: the venue's lists are paged with skip, so RFQs and "
        "trades that change while a recording runs can shift between pages and be missed."
    )
    record = parser
    record.add_argument(
        "--config", type=Path, help="the desk's configuration (TOML): its venue and usage plan"
    )
    record.add_argument(
        "--from",
        dest="start",
        type=_instant,
        metavar="ISO",
        required=True,
        help="RFQs created from (an instant with its offset, e.g. 2026-03-02T00:00:00Z)",
    )
    record.add_argument(
        "--to",
        dest="end",
        type=_instant,
        metavar="ISO",
        help="until, excluded (default: now; warns when within the last "
        f"{RECENT.seconds // 60} minutes)",
    )
    record.add_argument(
        "--out", type=Path, required=True, metavar="TAPE", help="the tape: .parquet or .csv"
    )
    record.add_argument(
        "--max-requests",
        type=whole(AT_LEAST_ONE),
        default=MAX_REQUESTS,
        help="stop before spending more of the day's quota",
    )
    record.add_argument(
        "--skip-custom", action="store_true", help="leave custom RFQs out (a request each)"
    )


def record(args: argparse.Namespace) -> int:
    """The venue's RFQs created in [--from, --to) and our trades in them, as a tape. Record a
    window that has ended: the venue's lists are paged with skip, and an item that changes
    meanwhile can shift pages and be missed; a window ending in the last minutes is warned of."""
    out: Path = args.out
    if out.suffix not in TAPE_SUFFIXES:
        return _fail(InputError(f"--out {out}: give a tape file, .parquet or .csv"))
    clock = SystemClock()
    now = clock.now()
    end: datetime = args.end or now
    if end <= args.start:
        window = f"[{args.start.isoformat()}, {end.isoformat()})"
        return _fail(InputError(f"record: the window {window} is empty: --to must be after --from"))
    if end > now - RECENT:
        print(
            f"quoter backtest: warning: the window ends at {end.isoformat()}, not "
            f"{RECENT.seconds // 60} minutes before now: RFQs still changing can be missed; "
            "record a window that has ended",
            file=sys.stderr,
        )
    config = load_config(args.config)
    try:
        venue_config = config.venue.beside_the_bot()  # the bot may be quoting on this key
    except ValueError as error:
        return _fail(error)
    credentials = load_credentials()
    shapes_dir = None if args.skip_custom else shapes_dir_for(out)

    async def pull() -> VenueRecording:
        async with HttpVenue.open(venue_config, credentials, clock) as venue:
            return await venue_tape(
                venue, args.start, end, shapes_dir, max_requests=args.max_requests
            )

    try:
        recording = asyncio.run(pull())
    except RecordingTooLarge as error:
        return _fail(error)
    except VenueError as error:
        return _fail(f"the venue failed: {type(error).__name__}: {error}", code=1)
    write_tape(recording.tape, out)
    span = f"{args.start.isoformat()} to {end.isoformat()}"
    print(f"{len(recording.tape)} RFQs created {span}, {recording.requests} requests: {out}")
    if recording.malformed:
        print(f"{recording.malformed} malformed item(s) set aside: see the log", file=sys.stderr)
        return 1
    return 0


def _fail(error: Exception | str, code: int = 2) -> int:
    print(f"quoter backtest record: {error}", file=sys.stderr)
    return code


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a UTC offset (Z or +00:00)")
    return at
