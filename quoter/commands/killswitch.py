"""`quoter kill` and `quoter resume`: through the running bot's admin interface, which latches
or lifts the kill and withdraws at once; when no bot answers, straight into the kill-switch
file, which a bot takes in while running or at its next start. The file is the latch either
way: a kill holds across restarts until `quoter resume`.

A kill's areas, products and strategies are checked before anything is sent or written: spelt
as the venue and the configuration spell them, whatever the case; an unknown one is refused
with the known ones listed. This module is imported on every kill: it imports only what a
kill needs (no engine, no pricing), and that late where only one path needs it."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quoter.admin.client import AdminClient, AdminError, AdminRefused
from quoter.admin.config import MAX_REASON_CHARS, AdminTokenError
from quoter.basics.state_lock import lock_path
from quoter.clock import SystemClock
from quoter.commands._venue_kill import (
    start_loading_venue_client,
    with_short_admin_wait,
    withdraw_without_bot,
)
from quoter.config import QuoterConfig, load_config, load_config_for
from quoter.engine.kill_scope import Scope, ScopeError, canonical_scope, describe_scope
from quoter.engine.killswitch import (
    Kill,
    KillSwitch,
    LatchError,
    UnknownKill,
    describe_kill,
    kill_to_json,
)
from quoter.strategy_names import known_strategies, strategy_key

USAGE_ERROR = 2
NOT_LATCHED = 1  # the kill is done, but a restart would not know of it


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kill = subparsers.add_parser("kill", help="stop quoting and withdraw live quotes (latched)")
    kill.add_argument("--config", type=Path, help="the bot's configuration (admin, latch path)")
    kill.add_argument("--area", action="append", default=[], help="only this market area")
    kill.add_argument("--product", action="append", default=[], help="only this product type")
    kill.add_argument("--strategy", action="append", default=[], help="only this strategy")
    kill.add_argument(
        "--reason", type=_reason, default="manual kill", help="recorded in the audit trail"
    )
    kill.set_defaults(handler=handle_kill)
    resume = subparsers.add_parser("resume", help="lift every latched kill, or one (--kill)")
    resume.add_argument("--config", type=Path, help="the bot's configuration")
    resume.add_argument(
        "--kill",
        dest="kills",
        type=int,
        action="append",
        metavar="ID",
        help="lift only the kill with this id (as `quoter status` shows it); repeatable",
    )
    resume.set_defaults(handler=handle_resume)


def _reason(text: str) -> str:
    """Checked here: a reason the bot refuses would be a kill refused."""
    if not 0 < len(text) <= MAX_REASON_CHARS:
        raise argparse.ArgumentTypeError(f"1 to {MAX_REASON_CHARS} characters")
    return text


def _admin(config: QuoterConfig) -> AdminClient | str:
    """A client for the running bot, or why there is none."""
    if not config.admin.enabled:
        return "the admin interface is off in the configuration"
    try:
        return AdminClient.from_config(config.admin)
    except AdminTokenError as error:
        return str(error)


def _scope(args: argparse.Namespace, config: QuoterConfig, client: AdminClient | str) -> Scope:
    """The kill's scope, checked; ScopeError before anything is sent."""

    def known() -> list[str]:
        engine = config.engine
        shadow = None if engine.shadow is None else engine.shadow.name
        here = known_strategies([engine.strategy.name, shadow])
        keys = {strategy_key(n) for n in here}
        if all(strategy_key(s) in keys for s in args.strategy):
            return here
        # Perhaps swapped in since the bot started: its configuration does not name it.
        return known_strategies([*here, *_running_strategies(client)])

    return canonical_scope(args.area, args.product, args.strategy, known)


def _running_strategies(client: AdminClient | str) -> list[str]:
    """The live and shadow strategies of the running bot; none when it does not answer."""
    if isinstance(client, str):
        return []
    try:
        status = client.status()
    except AdminError:
        return []
    shadow = status.get("shadow")
    return [str(status.get("strategy")), *([str(shadow["name"])] if shadow else [])]


# What a kill reads of the configuration: where the bot listens, where its latch is, the venue
# it withdraws at. A problem elsewhere in the file (edited since the bot started) is left out.
KILL_NEEDS = ("admin", "venue", "engine.kill")


def handle_kill(args: argparse.Namespace) -> int:
    loaded, left_out = load_config_for(args.config, KILL_NEEDS)
    if left_out:
        print(
            f"quoter kill: {args.config}: left out for this kill, which does not need them: "
            + "; ".join(left_out),
            file=sys.stderr,
        )
    if args.config is None:
        print(
            "quoter kill: no --config: this kills the demo's bot (its state in var/demo/); "
            "a desk's bot is killed with --config FILE",
            file=sys.stderr,
        )
    config = with_short_admin_wait(loaded)
    start_loading_venue_client()  # in case the bot does not answer
    client = _admin(config)
    try:
        scope = _scope(args, config, client)
    except ScopeError as error:
        print(f"quoter kill: nothing killed: {error}", file=sys.stderr)
        return USAGE_ERROR
    what = describe_scope(scope.to_json())
    # One command, one kill: the bot, woken late to this request, knows the kill below by it.
    command_id = secrets.token_hex(8)
    if isinstance(client, AdminClient):
        try:
            answer = client.kill(
                args.reason,
                sorted(scope.areas),
                sorted(scope.products),
                sorted(scope.strategies),
                command_id=command_id,
            )
        except AdminRefused as error:
            if error.status != 400:  # not allowed (token, Host): the latch still works
                client = str(error)
            else:  # the bot read the kill and said no: writing it anyway would be worse
                print(f"quoter kill: {error}", file=sys.stderr)
                return USAGE_ERROR
        except AdminError as error:
            client = str(error)
        else:
            return _print_killed(what, args.reason, answer)
    elsewhere = not_the_bots_latch(config.engine.kill.latch_path)
    if elsewhere is None:
        _fallback(client)
    else:
        print(f"quoter: not through the bot: {client}", file=sys.stderr)

    kill = Kill(
        reason=args.reason,
        by=f"{getpass.getuser()} (cli)",
        at=SystemClock().now(),
        scope=scope,
        command_id=command_id,
    )
    if elsewhere is None:
        latched = _latch(config, kill, what)
    else:
        print(
            f"quoter kill: NOT LATCHED: {elsewhere}; withdrawing at the venue all the same, but "
            "no bot would know of this kill",
            file=sys.stderr,
        )
        latched = False
    withdrawn = withdraw_without_bot(config, scope)  # no bot to withdraw: this command does
    return withdrawn if latched else NOT_LATCHED


def not_the_bots_latch(latch: Path) -> str | None:
    """Why the configured latch is no bot's, or None. A configuration file's paths are taken
    from its folder (absolute, then); the demo's (no --config) are relative, read from the
    folder the command runs in: every bot leaves its run lock beside its latch from its first
    start on, so a relative latch with neither is one no demo has read, most often the command
    run from another folder than the demo's. A kill written there would say "latched" and be
    lost; a resume there would lift nothing the bot holds."""
    if latch.is_absolute() or latch.exists() or lock_path(latch).exists():
        return None
    return (
        f"no bot has used the kill latch {latch} here (no {latch.absolute()}, no run lock "
        f"beside it): the demo's state is read from the folder a command runs in "
        f"({Path.cwd()}); run this from the folder the demo was started in, or give the "
        "bot's --config"
    )


def _latch(config: QuoterConfig, kill: Kill, what: str) -> bool:
    """Write the kill to the latch file; False, said in one line, if the file cannot be read
    or written. The file is left as it is: a damaged latch may hold kills a person can still
    read in it, and is never taken for "no kill"; the withdrawal goes on regardless."""
    try:
        switch = KillSwitch(config.engine.kill.latch_path)
        latched = switch.kill(kill)
    except LatchError as error:
        print(
            f"quoter kill: NOT LATCHED ({error}): withdrawing at the venue all the same, but a "
            "restart would not know of this kill; once the file is fixed, `quoter kill` again "
            "latches it",
            file=sys.stderr,
        )
        return False
    print(f"killed {what}: {kill.reason}; state {switch.state.value}")
    print(f"latched as kill {latched.id}")
    return True


def _print_killed(what: str, reason: str, answer: dict[str, Any]) -> int:
    """What the bot did; NOT_LATCHED when it holds the kill in its memory only."""
    print(f"killed {what}: {reason}; state {answer['state']} (through the bot)")
    kill = answer.get("kill")
    withdrawing = f"withdrawing {answer.get('withdrawing', 0)} quotes it covers"
    problem = answer.get("latch-problem")
    if problem is None:
        latched = "nothing new (already halted)" if kill is None else describe_kill(kill)
        print(f"latched: {latched}; {withdrawing}")
        return 0
    held = "the kill" if kill is None else f"kill {kill.get('id', '?')}"
    print(
        f"quoter kill: NOT LATCHED on disk: {problem}; the bot holds {held} in memory and "
        f"writes it to the latch once the file can be written ({withdrawing}); "
        "a restart before then would not know of it: fix the file",
        file=sys.stderr,
    )
    return NOT_LATCHED


def handle_resume(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    client = _admin(config)
    if isinstance(client, AdminClient):
        try:
            answer = client.resume(args.kills)
        except AdminRefused as error:
            # The bot answered and lifted nothing: no such kill, its latch unusable, or the
            # call not allowed (a wrong token). Never redone through the file: a refused
            # resume that lifted the kills anyway would make the token guard nothing.
            said = str(error)
            if "nothing lifted" not in said:
                said += "; nothing lifted (a resume the bot refused is not done through the file)"
            print(f"quoter resume: {said}", file=sys.stderr)
            return USAGE_ERROR
        except AdminError as error:
            client = str(error)
        else:
            _print_lifted(answer["lifted"])
            print(f"state {answer['state']} (through the bot)")
            return 0
    elsewhere = not_the_bots_latch(config.engine.kill.latch_path)
    if elsewhere is not None:
        print(f"quoter resume: nothing lifted: {elsewhere}", file=sys.stderr)
        return USAGE_ERROR
    _fallback(client)
    try:
        kills = KillSwitch(config.engine.kill.latch_path).resume(args.kills)
    except (UnknownKill, LatchError) as error:
        print(f"quoter resume: nothing lifted: {error}", file=sys.stderr)
        return USAGE_ERROR
    _print_lifted([kill_to_json(k) for k in kills])
    return 0


def _fallback(why: str) -> None:
    print(
        f"quoter: not through the bot: {why}\n"
        "quoter: using the kill-switch file instead; a running bot takes it in within a "
        "second, a stopped one at its next start",
        file=sys.stderr,
    )


def _print_lifted(lifted: Iterable[dict[str, Any]]) -> None:
    shown = [f"lifted: {describe_kill(kill)}" for kill in lifted]
    print("\n".join(shown) or "nothing to resume: no kill was latched")
