"""`quoter kill` and `quoter resume`: through the running bot's admin interface, which latches
or lifts the kill and withdraws at once; when no bot answers, straight into the kill-switch
file, which a bot takes in while running or at its next start. The file is the latch either
way: a kill holds across restarts until `quoter resume`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from quoter.admin.client import AdminClient, AdminError
from quoter.admin.config import AdminTokenError
from quoter.clock import SystemClock
from quoter.commands._venue_kill import (
    start_loading_venue_client,
    with_short_admin_wait,
    withdraw_without_bot,
)
from quoter.config import QuoterConfig, load_config
from quoter.engine.killswitch import Kill, KillSwitch, Scope


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kill = subparsers.add_parser("kill", help="stop quoting and withdraw live quotes (latched)")
    kill.add_argument("--config", type=Path, help="the bot's configuration (admin, latch path)")
    kill.add_argument("--area", action="append", default=[], help="only this market area")
    kill.add_argument("--product", action="append", default=[], help="only this product type")
    kill.add_argument("--strategy", action="append", default=[], help="only this strategy")
    kill.add_argument("--reason", default="manual kill", help="recorded in the audit trail")
    kill.set_defaults(handler=handle_kill)
    resume = subparsers.add_parser("resume", help="lift every latched kill")
    resume.add_argument("--config", type=Path, help="the bot's configuration")
    resume.set_defaults(handler=handle_resume)


def _admin(config: QuoterConfig) -> AdminClient | str:
    """A client for the running bot, or why there is none."""
    if not config.admin.enabled:
        return "the admin interface is off in the configuration"
    try:
        return AdminClient.from_config(config.admin)
    except AdminTokenError as error:
        return str(error)


def handle_kill(args: argparse.Namespace) -> int:
    config = with_short_admin_wait(load_config(args.config))
    start_loading_venue_client()  # in case the bot does not answer
    scope = Scope(frozenset(args.area), frozenset(args.product), frozenset(args.strategy))
    what = "everything" if scope.everything else _describe(scope)
    client = _admin(config)
    if isinstance(client, AdminClient):
        try:
            answer = client.kill(args.reason, args.area, args.product, args.strategy)
        except AdminError as error:
            client = str(error)
        else:
            print(f"killed {what}: {args.reason}; state {answer['state']} (through the bot)")
            return 0
    _fallback(client)
    kill = Kill(
        reason=args.reason, by=f"{getpass.getuser()} (cli)", at=SystemClock().now(), scope=scope
    )
    switch = KillSwitch(config.engine.kill.latch_path)
    switch.kill(kill)
    print(f"killed {what}: {args.reason}; state {switch.state.value}")
    return withdraw_without_bot(config, scope)  # no bot to withdraw: this command does


def handle_resume(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    client = _admin(config)
    if isinstance(client, AdminClient):
        try:
            answer = client.resume()
        except AdminError as error:
            client = str(error)
        else:
            lifted = [f"{k['reason']} (by {k['by']} at {k['at']})" for k in answer["lifted"]]
            _print_lifted(lifted)
            print(f"state {answer['state']} (through the bot)")
            return 0
    _fallback(client)
    kills = KillSwitch(config.engine.kill.latch_path).resume()
    _print_lifted([f"{k.reason} (by {k.by} at {k.at:%Y-%m-%d %H:%M:%S})" for k in kills])
    return 0


def _fallback(why: str) -> None:
    print(
        f"quoter: not through the bot: {why}\n"
        "quoter: writing the kill-switch file instead; a running bot takes it in within a "
        "second, a stopped one at its next start",
        file=sys.stderr,
    )


def _print_lifted(lifted: list[str]) -> None:
    if not lifted:
        print("nothing to resume: no kill was latched")
    for kill in lifted:
        print(f"lifted: {kill}")


def _describe(scope: Scope) -> str:
    parts = [
        f"{name} {', '.join(sorted(values))}"
        for name, values in (
            ("areas", scope.areas),
            ("products", scope.products),
            ("strategies", scope.strategies),
        )
        if values
    ]
    return "; ".join(parts)
