"""`quoter kill` and `quoter resume`: latch or lift a kill in the kill-switch file a running
bot watches. A kill withdraws every live quote it covers within a fraction of a second and
holds across restarts until `quoter resume`."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from quoter.clock import SystemClock
from quoter.config import load_config
from quoter.engine.killswitch import Kill, KillSwitch, Scope


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kill = subparsers.add_parser("kill", help="stop quoting and withdraw live quotes (latched)")
    kill.add_argument("--config", type=Path, help="the bot's configuration (for the latch path)")
    kill.add_argument("--area", action="append", default=[], help="only this market area")
    kill.add_argument("--product", action="append", default=[], help="only this product type")
    kill.add_argument("--strategy", action="append", default=[], help="only this strategy")
    kill.add_argument("--reason", default="manual kill", help="recorded in the audit trail")
    kill.set_defaults(handler=handle_kill)
    resume = subparsers.add_parser("resume", help="lift every latched kill")
    resume.add_argument("--config", type=Path, help="the bot's configuration")
    resume.set_defaults(handler=handle_resume)


def _switch(config_path: Path | None) -> KillSwitch:
    return KillSwitch(load_config(config_path).engine.kill.latch_path)


def handle_kill(args: argparse.Namespace) -> int:
    scope = Scope(frozenset(args.area), frozenset(args.product), frozenset(args.strategy))
    kill = Kill(
        reason=args.reason, by=f"{getpass.getuser()} (cli)", at=SystemClock().now(), scope=scope
    )
    switch = _switch(args.config)
    switch.kill(kill)
    what = "everything" if scope.everything else _describe(scope)
    print(f"killed {what}: {args.reason}; state {switch.state.value}")
    return 0


def handle_resume(args: argparse.Namespace) -> int:
    lifted = _switch(args.config).resume()
    if not lifted:
        print("nothing to resume: no kill was latched")
    for kill in lifted:
        print(f"lifted: {kill.reason} (by {kill.by} at {kill.at:%Y-%m-%d %H:%M:%S})")
    return 0


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
