"""`quoter trades export`: our trades from the venue into the desk's trade file (CSV or Parquet
by suffix); a second run adds nothing twice. Credentials come from the environment; with no
`--config` the venue is the default `[venue] base_url` (a `quoter sandbox` on loopback)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path

from quoter.clock import Clock, SystemClock
from quoter.config import load_config, load_credentials
from quoter.trades.capture import TradeSource, fetch_trades
from quoter.trades.rows import trade_row
from quoter.trades.store import TradeStore
from quoter.venue.errors import VenueError
from quoter.venue.http import HttpVenue

DEFAULT_FILE = Path("var/trades.parquet")
DEFAULT_LOOKBACK = timedelta(days=30)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trades = subparsers.add_parser("trades", help="capture our trades from the venue")
    commands = trades.add_subparsers(dest="trades_command", metavar="ACTION", required=True)
    export = commands.add_parser("export", help="pull our trades into a CSV or Parquet file")
    export.add_argument("--config", type=Path, help="the venue's configuration (TOML)")
    export.add_argument(
        "--since", type=_instant, help="ISO time (default: the file's latest, else 30 days back)"
    )
    export.add_argument("--to", type=Path, default=DEFAULT_FILE, help=f"default {DEFAULT_FILE}")
    export.set_defaults(handler=handle_export)


def handle_export(args: argparse.Namespace) -> int:
    store = TradeStore(args.to)
    config = load_config(args.config)
    credentials = load_credentials()
    clock = SystemClock()
    try:
        venue_config = config.venue.beside_the_bot()  # the bot may be quoting on this key
    except ValueError as error:
        print(f"quoter trades export: {error}", file=sys.stderr)
        return 2

    async def pull() -> tuple[int, int, int]:
        async with HttpVenue.open(venue_config, credentials, clock) as venue:
            return await export_trades(venue, store, clock, args.since)

    try:
        found, added, rejected = asyncio.run(pull())
    except VenueError as error:
        print(
            f"quoter trades export: the venue failed: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    print(f"{found} trades from the venue, {added} new, written to {store.path}")
    if rejected:
        print(f"{rejected} malformed trade item(s) set aside: see the log", file=sys.stderr)
        return 1
    return 0


async def export_trades(
    venue: TradeSource, store: TradeStore, clock: Clock, since: datetime | None = None
) -> tuple[int, int, int]:
    """Trades since `since` (default: the file's latest, else 30 days back) merged into the
    store: how many the venue returned, how many were new, how many were malformed."""
    now = clock.now()
    if since is None:
        latest = store.latest_traded_at()
        since = now - DEFAULT_LOOKBACK if latest is None else _instant(latest)
    trades, rejected = await fetch_trades(venue, since, now)
    added = store.merge(trade_row(t) for t in trades)
    return len(trades), added, rejected


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a UTC offset (Z or +00:00)")
    return at
