"""`quoter alert-inbox`: take Alertmanager's webhook deliveries and show them to a person, a
line each on stdout and a page at `/`, until Ctrl-C or SIGTERM (see quoter/metrics/alert_inbox.py).
The compose stack's Alertmanager delivers to it until the desk points its receivers at its own
pager and chat."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from quoter.basics.loopback import is_loopback
from quoter.commands._flags import PORT, whole
from quoter.metrics.alert_inbox import AlertInbox, serve_inbox


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "alert-inbox",
        help="take Alertmanager's alerts and show them (a line each, and a page at /)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=whole(PORT), default=8080, help="port (default 8080)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="bind a non-loopback --host (a container's network, as compose does)",
    )
    parser.set_defaults(handler=run)


async def serve(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with serve_inbox(AlertInbox(), host, port) as url:
            print(
                f"alert-inbox: Alertmanager posts to {url}/quoter/critical (any path); the page: {url}/"
            )
            print("alert-inbox: Ctrl-C stops", flush=True)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def run(args: argparse.Namespace) -> int:
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"quoter alert-inbox: --host {args.host} is not loopback: add --allow-remote "
            "to take alerts from other machines",
            file=sys.stderr,
        )
        return 2
    asyncio.run(serve(args.host, args.port))
    print("alert-inbox: stopped", flush=True)
    return 0
