"""`quoter trades export`: our trades from the venue into the desk's trade file (CSV or Parquet
by suffix); a second run adds nothing twice. Credentials come from the environment. With no
`--config`: the running demo's sandbox (var/demo/sandbox.json) into the demo's trade file, else
a `quoter sandbox` at the default `[venue] base_url`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path

from quoter.clock import Clock, SystemClock
from quoter.commands._demo import CREDENTIALS, running_demo
from quoter.config import QuoterConfig, load_config
from quoter.timefmt import stamp
from quoter.trades.capture import TooManyTrades, TradeSource, fetch_trades
from quoter.trades.rows import TradeFileError, trade_row
from quoter.trades.store import TradeStore
from quoter.venue.config import VenueConfig, load_credentials
from quoter.venue.errors import Final, VenueError
from quoter.venue.http import HttpVenue

DEFAULT_LOOKBACK = timedelta(days=30)
# Past the venue's now: a range end for "until now" that a few seconds of skew cannot cut.
OPEN_END = timedelta(days=1)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trades = subparsers.add_parser("trades", help="capture our trades from the venue")
    commands = trades.add_subparsers(dest="trades_command", metavar="ACTION", required=True)
    export = commands.add_parser("export", help="pull our trades into a CSV or Parquet file")
    export.add_argument("--config", type=Path, help="the venue's configuration (TOML)")
    export.add_argument(
        "--since", type=_instant, help="ISO time (default: the file's latest, else 30 days back)"
    )
    # --since .. --until, as the words pair; backtest record's --from takes --to.
    export.add_argument("--until", type=_instant, help="ISO time (default: the venue's now)")
    export.add_argument(
        "--out",
        type=Path,
        help="the trade file, .csv or .parquet (default: [engine] trades_file; the demo's)",
    )
    export.add_argument("--to", help=argparse.SUPPRESS)  # the old name of --out: refused
    export.set_defaults(handler=handle_export)


def handle_export(args: argparse.Namespace) -> int:
    if args.to is not None:
        print(
            "quoter trades export: --to is no longer the output file: write to it with "
            f"--out {args.to}; the range's end is --until ISO",
            file=sys.stderr,
        )
        return 2
    config = load_config(args.config)
    try:
        store = TradeStore(_out(args.out, config))
        venue_config, clock, where = _venue(config, args.config)
    except ValueError as error:
        print(f"quoter trades export: {error}", file=sys.stderr)
        return 2
    if args.since is not None and args.until is not None and args.until <= args.since:
        print(
            f"quoter trades export: --until {stamp(args.until)} is not after "
            f"--since {stamp(args.since)}: nothing to ask the venue for",
            file=sys.stderr,
        )
        return 2
    credentials = load_credentials()  # a ConfigError naming what is missing: said by the CLI

    async def pull() -> tuple[int, int, int]:
        async with HttpVenue.open(venue_config, credentials, clock) as venue:
            return await export_trades(venue, store, clock, args.since, args.until)

    try:
        found, added, rejected = asyncio.run(pull())
    except ListRefused as error:
        print(f"quoter trades export: {error}", file=sys.stderr)
        return 1
    except TradeFileError as error:
        print(
            f"quoter trades export: {error}; the file is left as it is (mend or move it, or "
            "name another with --out)",
            file=sys.stderr,
        )
        return 1
    except (VenueError, TooManyTrades) as error:
        print(f"quoter trades export: {where} failed: {error}", file=sys.stderr)
        return 1
    print(f"{_count(found, 'trade')} from {where}, {added} new, written to {store.path}")
    if rejected:
        print(f"{_count(rejected, 'malformed trade item')} set aside: see the log", file=sys.stderr)
        return 1
    return 0


class ListRefused(Exception):
    """The venue refused the list of trades asked for: the message says what was asked."""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _out(out: Path | None, config: QuoterConfig) -> Path:
    path = out or config.engine.trades_file
    if path is None:
        raise ValueError("[engine] trades_file is off: name the file with --out FILE")
    return path


def _venue(config: QuoterConfig, source: Path | None) -> tuple[VenueConfig, Clock, str]:
    """The venue (beside the bot: it may be quoting on this key), the clock to ask it by,
    and what to call it. No configuration: the running demo's sandbox, on the demo's clock
    (ahead of the wall when the demo started outside trading hours or runs fast)."""
    venue = config.venue.beside_the_bot()
    demo = running_demo() if source is None else None
    if demo is None:
        return venue, SystemClock(), f"the venue at {venue.base_url}"
    venue = venue.model_copy(update={"base_url": demo.base_url})
    return venue, demo.clock(), f"the demo's sandbox at {demo.base_url} ({CREDENTIALS})"


async def export_trades(
    venue: TradeSource,
    store: TradeStore,
    clock: Clock,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[int, int, int]:
    """Trades in [since, until] (default: the file's latest, else 30 days back, to the
    clock's now) merged into the store, which exists afterwards even if none were found: how
    many the venue returned, how many were new, how many were malformed."""
    now = clock.now()
    if since is None:
        latest = store.latest_traded_at()
        since = now - DEFAULT_LOOKBACK if latest is None else _instant(latest)
    end = until or max(now, since) + OPEN_END
    try:
        trades, rejected = await fetch_trades(venue, since, end)
    except Final as error:
        if error.status is None or not 400 <= error.status < 500:
            raise
        raise ListRefused(
            f"the venue refused the list of trades traded {stamp(since)} .. {stamp(end)}: "
            f"{error} (HTTP {error.status})"
        ) from None
    added = store.merge(trade_row(t) for t in trades)
    return len(trades), added, rejected


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a UTC offset (Z or +00:00)")
    return at
