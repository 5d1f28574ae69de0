"""`quoter run`: quote unattended. With no configuration it starts the sandbox in-process on
loopback, with synthetic curves and the default strategy; with `--config` it quotes any venue
that follows the contract, credentials from the environment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.live import Live
from rich.text import Text

from quoter.admin import swap_record
from quoter.admin.config import AdminTokenError, create_token_file, read_token
from quoter.app import AdminAccess, Bot, build_curves, demo_clock, open_bot, run_bot
from quoter.audit.trail import AuditError
from quoter.clock import Clock, SystemClock
from quoter.commands._deadman import deadman_beside
from quoter.commands._demo import announce, withdraw
from quoter.commands._desk_lock import hold_desk
from quoter.commands._flags import SANDBOX_SPEED, Range, number
from quoter.config import QuoterConfig, check_strategies, load_config, require_risk
from quoter.engine.killswitch import LatchError, kill_to_json, read_latch, start_banner
from quoter.engine.reconcile import StartRefused
from quoter.engine.status import REVERTED_FACT, render_status, status_of
from quoter.pricing.curve import CurveSet
from quoter.risk.config import DEMO_RISK, RiskConfig
from quoter.sandbox.reference import curve_reference
from quoter.sandbox.server import run_sandbox
from quoter.strategy_paths import use_strategy_folders
from quoter.timefmt import configure_logging, stamp
from quoter.venue.config import VenueConfig, VenueCredentials, load_credentials

# A faster refresh is a busy loop on the loop that quotes; a slower one, no live status.
STATUS_S = Range(at_least=0.1, at_most=3600)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="quote: the built-in sandbox, or --config's venue")
    parser.add_argument("--config", type=Path, help="TOML configuration (default: the demo)")
    parser.add_argument(
        "--speed", type=number(SANDBOX_SPEED), help="demo only: sandbox seconds per second"
    )
    parser.add_argument(
        "--seed", type=int, help="demo only: the market's seed (default: a new one each run)"
    )
    parser.add_argument(
        "--status-s", type=number(STATUS_S), default=1.0, help="status refresh, seconds"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    configure_logging()
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
    if args.config is None:
        config = demo_sandbox(config, args.speed, args.seed)
    elif args.speed is not None or args.seed is not None:
        print("quoter run: --speed and --seed are the demo's: not with --config", file=sys.stderr)
        return 2
    try:
        # Held before anything is read, sent or written: a twin is refused having done nothing.
        with hold_desk(config, args.config):
            read_latch(config.engine.kill.latch_path)  # damaged: nothing starts, no sandbox
            return asyncio.run(_run(config, args.config, args.status_s))
    except (AuditError, LatchError) as error:  # no usable key, an unreadable trail or latch
        print(f"quoter: not started: {error}", file=sys.stderr)
        return 2
    except BaseExceptionGroup as group:
        # An AuditError too: a key refused or a trail unreadable while the sandbox's group runs.
        refused, rest = group.split((StartRefused, AuditError, LatchError))
        if refused is None or rest is not None:
            raise
        first: BaseException = refused
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        print(f"quoter: not started: {first}", file=sys.stderr)
        return 2


# RFQs open when the demo's market starts: a newcomer sees one priced and quoted at once,
# not after the first Poisson gap (two minutes with seed 7).
DEMO_OPEN_RFQS = 3


def demo_sandbox(config: QuoterConfig, speed: float | None, seed: int | None) -> QuoterConfig:
    """The demo's sandbox: on any free port, RFQs open from the start, and a market seed of its
    own each run unless `seed` fixes one (so RFQ ids do not repeat across runs)."""
    sandbox = config.sandbox
    market = sandbox.market.model_copy(update={"open_at_start": DEMO_OPEN_RFQS})
    update: dict[str, object] = {
        "port": 0,
        "market": market,
        "seed": secrets.randbelow(1_000_000) if seed is None else seed,
    }
    if speed is not None:
        update["speed"] = speed
    return config.model_copy(update={"sandbox": sandbox.model_copy(update=update)})


@asynccontextmanager
async def _venue(
    config: QuoterConfig, source: Path | None
) -> AsyncIterator[tuple[VenueConfig, VenueCredentials, RiskConfig, Clock]]:
    if source is not None:
        yield config.venue, load_credentials(), require_risk(config, str(source)), SystemClock()
        return
    clock = demo_clock(config)
    curves = build_curves(config.curves, clock.now()).current
    async with run_sandbox(
        config.sandbox, clock=clock, reference_price=curve_reference(curves)
    ) as sandbox:
        venue = config.venue.model_copy(update={"base_url": sandbox.base_url})
        print(
            f"sandbox on {sandbox.base_url}, market seed {config.sandbox.seed}; "
            f"demo clock {stamp(clock.now())} at {clock.speed:g}x "
            f"(wall {stamp(SystemClock().now())}); state in {config.engine.audit_dir.parent}/"
        )
        config.engine.audit_dir.parent.mkdir(parents=True, exist_ok=True)
        announce(sandbox.base_url, clock, sandbox.credentials)
        try:
            yield venue, sandbox.credentials, config.risk or _demo_risk(curves), clock
        finally:
            withdraw()


def run_facts(config: QuoterConfig, source: Path | None) -> dict[str, object]:
    """What the trail's start record says of this run's clock and market."""
    if source is not None:
        return {"clock": "wall", "config": str(source)}
    return {"clock": "demo", "speed": config.sandbox.speed, "seed": config.sandbox.seed}


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
    view = _StatusView(sys.stdout.isatty(), status_s)
    async with (
        _venue(config, source) as (venue_config, credentials, risk, clock),
        deadman_beside(config, source) as heartbeat,
    ):
        curves = build_curves(config.curves, clock.now())
        await curves.refresh(clock.now())
        facts = run_facts(config, source)
        wanted = config.engine.strategy
        record = swap_record.record_path(config.engine)
        reverted = swap_record.reverted(record, wanted.name, wanted.params)
        if reverted is not None:  # on the start's audit record, in the status, said first
            facts[REVERTED_FACT] = reverted
        async with open_bot(
            config.engine, venue_config, risk, credentials, clock, curves, facts
        ) as bot:
            admin = AdminAccess(config.admin, _admin_token(config, source), config_path=source)
            # A run starting on a latched kill quotes nothing it covers: said before it runs.
            kills = [kill_to_json(k) for k in bot.engine.deps.killswitch.kills]
            for line in start_banner(kills):
                print(line, flush=True)
            if reverted is not None:
                print(f"STRATEGY REVERTED: {reverted}", flush=True)
            try:
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
            finally:
                view.close()  # the terminal's cursor back, whatever stopped the bot
            left = bot.engine.left_live
            if left is None:  # the engine never reached its final sweep
                left = len(bot.engine.desk.quotes)
            if left:
                print(f"stopped with {left} quote(s) possibly still live: check the venue")
            else:
                print("stopped; every live quote withdrawn")
            print("the run's last status (its state as it was when it stopped):")
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
    return render_status(status_of(bot.engine.deps, bot.engine.desk, bot.engine.last_plan))


class _StatusView:
    """On a terminal, the status redrawn in place by rich (it sizes and clears the screen's
    lines, and keeps log lines above the status); elsewhere (a pipe, a file) plain text,
    printed every 30 s of wall time and at once when the first quote goes out."""

    def __init__(self, terminal: bool, tick_s: float = 1.0) -> None:
        self._live = Live(console=Console(), auto_refresh=False) if terminal else None
        self._every = max(1, round(30.0 / tick_s))
        self._ticks = 0
        self._quoted = False

    def show(self, bot: Bot) -> None:
        text = _status_text(bot)
        self._ticks += 1
        if self._live is not None:
            if self._ticks == 1:
                self._live.start()
            self._live.update(Text(text), refresh=True)
            return
        quoted = bot.engine.desk.stats.quotes_sent > 0
        if self._ticks % self._every == 1 or (quoted and not self._quoted):
            print(text, flush=True)
        self._quoted = quoted

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
