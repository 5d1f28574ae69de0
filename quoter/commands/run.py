"""`quoter run`: quote unattended. With no configuration it starts the sandbox in-process on
loopback, with synthetic curves and the default strategy; with `--config` it quotes any venue
that follows the contract, credentials from the environment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import SecretStr

from quoter.admin.config import AdminTokenError, create_token_file, read_token
from quoter.app import (
    DEMO_RISK,
    AdminAccess,
    Bot,
    build_curves,
    curve_reference,
    demo_clock,
    open_bot,
    run_bot,
)
from quoter.audit.trail import AuditError
from quoter.clock import Clock, SystemClock
from quoter.commands._deadman import deadman_beside
from quoter.config import (
    QuoterConfig,
    check_strategies,
    load_config,
    load_credentials,
    require_risk,
)
from quoter.engine.reconcile import StartRefused
from quoter.engine.status import render_status, status_of
from quoter.pricing.curve import CurveSet
from quoter.risk.config import RiskConfig
from quoter.sandbox.server import run_sandbox
from quoter.strategy_paths import use_strategy_folders
from quoter.venue.config import VenueConfig, VenueCredentials


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="quote: the built-in sandbox, or --config's venue")
    parser.add_argument("--config", type=Path, help="TOML configuration (default: the demo)")
    parser.add_argument("--speed", type=float, help="demo only: sandbox seconds per second")
    parser.add_argument("--status-s", type=float, default=1.0, help="status refresh, seconds")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Where the endpoints listen, said once they do.
    for name in ("quoter.metrics.server", "quoter.admin.server"):
        logging.getLogger(name).setLevel(logging.INFO)
    config = load_config(args.config)
    # A swap later searches these folders too: a module written there after the start is found.
    use_strategy_folders(config.strategies)
    # Every problem of the file before anything starts, credentials and all.
    if args.config is not None:
        require_risk(config, str(args.config))
    check_strategies(config, str(args.config or "the demo configuration"))
    if args.speed is not None:
        config = config.model_copy(
            update={"sandbox": config.sandbox.model_copy(update={"speed": args.speed})}
        )
    try:
        return asyncio.run(_run(config, args.config, args.status_s))
    except AuditError as error:  # no usable key, an unreadable trail: said in one line
        print(f"quoter: not started: {error}", file=sys.stderr)
        return 2
    except BaseExceptionGroup as group:
        # An AuditError too: a key refused or a trail unreadable while the sandbox's group runs.
        refused, rest = group.split((StartRefused, AuditError))
        if refused is None or rest is not None:
            raise
        first: BaseException = refused
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        print(f"quoter: not started: {first}", file=sys.stderr)
        return 2


@asynccontextmanager
async def _venue(
    config: QuoterConfig, source: Path | None
) -> AsyncIterator[tuple[VenueConfig, VenueCredentials, RiskConfig, Clock]]:
    if source is not None:
        yield config.venue, load_credentials(), require_risk(config, str(source)), SystemClock()
        return
    clock = demo_clock(config)
    curves = build_curves(config.curves, clock.now()).current
    sandbox_config = config.sandbox.model_copy(update={"port": 0})
    async with run_sandbox(
        sandbox_config, clock=clock, reference_price=curve_reference(curves)
    ) as sandbox:
        venue = config.venue.model_copy(update={"base_url": sandbox.base_url})
        print(f"sandbox on {sandbox.base_url} (clock {clock.now():%Y-%m-%d %H:%M} UTC)")
        yield venue, sandbox.credentials, config.risk or _demo_risk(curves), clock


def _demo_risk(curves: CurveSet) -> RiskConfig:
    """The demo's limits, quoting the areas its curves cover: an area allowed without a curve
    would be reported at every start as a problem the demo does not have."""
    areas = frozenset(area for _, area in curves)
    return DEMO_RISK.model_copy(update={"allowed_areas": DEMO_RISK.allowed_areas & areas})


async def _run(config: QuoterConfig, source: Path | None, status_s: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    view = _StatusView(sys.stdout.isatty())
    async with (
        _venue(config, source) as (venue_config, credentials, risk, clock),
        deadman_beside(config, source) as heartbeat,
    ):
        curves = build_curves(config.curves, clock.now())
        await curves.refresh(clock.now())
        async with open_bot(config.engine, venue_config, risk, credentials, clock, curves) as bot:
            admin = AdminAccess(config.admin, _admin_token(config, source), config_path=source)
            await run_bot(
                bot,
                curves,
                config.curves,
                clock,
                stop,
                view.show,
                status_s,
                config.metrics,
                admin,
                heartbeat,
            )
            view.close()
            left = len(bot.engine.ctx.quotes)
            if left:
                print(f"stopped with {left} quote(s) possibly still live: check the venue")
            else:
                print("stopped; every live quote withdrawn")
            print(_status_text(bot))
            return 1 if left else 0
    return 0


def _admin_token(config: QuoterConfig, source: Path | None) -> SecretStr | None:
    """The admin token, or None (the interface off, said so). The demo makes itself one."""
    admin = config.admin
    if not admin.enabled:
        return None
    try:
        token = read_token(admin)
    except AdminTokenError as error:
        if source is not None or admin.token_file.exists():
            print(f"admin interface off: {error}")
            return None
        token = create_token_file(admin.token_file)
        print(f"admin token written to {admin.token_file} (owner-only)")
    return token


def _status_text(bot: Bot) -> str:
    return render_status(status_of(bot.engine.ctx, bot.engine.last_plan))


class _StatusView:
    """Redraws the status in place on a terminal; elsewhere prints it every so often."""

    def __init__(self, terminal: bool) -> None:
        self._terminal = terminal
        self._lines = 0
        self._ticks = 0

    def show(self, bot: Bot) -> None:
        text = _status_text(bot)
        self._ticks += 1
        if self._terminal:
            up = f"\x1b[{self._lines}F\x1b[J" if self._lines else ""
            sys.stdout.write(up + text + "\n")
            sys.stdout.flush()
            self._lines = text.count("\n") + 1
        elif self._ticks % 30 == 1:
            print(text, flush=True)

    def close(self) -> None:
        self._lines = 0
