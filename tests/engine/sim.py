"""The engine on a `SimVenue` and virtual time, wired as the replay driver wires it: behaviour
tests with no socket and no wall clock. The RFQs are a tape whose arrivals are seconds after
SANDBOX_START; the virtual clock jumps to each as the engine polls.

Run such a test on the virtual-time loop: `@virtual` (a socket there is refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from quoter.backtest.fills import AuctionFill, FillModel
from quoter.backtest.simmarket import SimMarket
from quoter.backtest.simvenue import SimVenue, memory_guard
from quoter.backtest.tape import Tape, TapeRfq, parse_frame, tape_frame
from quoter.domain import Action, Instrument, ProductType, QuoteStatus, Rfq
from quoter.engine.config import EngineConfig
from quoter.engine.planner import PollConfig
from quoter.strategies_api import MarketSnapshot
from quoter.venue.config import UsagePlanConfig
from tests.conftest import SANDBOX_START
from tests.engine.harness import BIG_QUOTA, Running, engine_config, engine_on
from tests.factories import make_instrument, make_rfq
from tests.virtual_time import virtual_clock

virtual = pytest.mark.asyncio(loop_factories=["virtual-time"])

APRIL = make_instrument(
    start=SANDBOX_START.replace(month=3, day=31, hour=22),
    end=SANDBOX_START.replace(month=4, day=30, hour=22),
    product_type=ProductType.MONTH,
    product_label="Apr-26",
)
PLAN = UsagePlanConfig.model_validate(
    {"daily_quota": BIG_QUOTA, "withdraw_reserve_daily": 250, "submit_reserve_daily": 500}
)


def arriving(
    n: int,
    at_s: float = 1.0,
    *,
    instrument: Instrument = APRIL,
    deadline_s: float = 300.0,
    action: Action = Action.BUY,
    competitor: float = 3000.0,
    quantity_mw: float = 10.0,
) -> TapeRfq:
    """The `n`-th test RFQ, on April base (the month ahead), visible `at_s` after the start and
    open for `deadline_s`. By default the requester buys 10 MW against a competitor at
    3,000 €/MWh: a quote at any sane price wins at the deadline."""
    created = SANDBOX_START + timedelta(seconds=at_s)
    rfq = make_rfq(
        id=f"rfq-{n:03d}",
        short_id=f"RQ-{n:03d}",
        created_at=created,
        updated_at=created,
        quote_deadline=created + timedelta(seconds=deadline_s),
        instrument=instrument,
        action=action,
        quantity_mw=quantity_mw,
    )
    return TapeRfq(rfq, None, action, competitor, None, None, None)


def sim_venue(rfqs: list[TapeRfq], fills: FillModel | None = None) -> SimVenue:
    """A SimVenue serving `rfqs` on the virtual-time loop's clock; runs after one another
    (a restart) share it."""
    clock = virtual_clock()
    tape: Tape = parse_frame(tape_frame(rfqs), "test-tape")
    return SimVenue(SimMarket(tape, clock, fills or AuctionFill()), memory_guard(PLAN, clock))


@dataclass
class SimRunning(Running):
    venue: SimVenue

    def live_quotes(self) -> int:
        quotes = self.venue.market.quotes.values()
        return sum(q.status is QuoteStatus.ACTIVE for q in quotes)


def sim_config(tmp_path: Path, **quoting: Any) -> EngineConfig:
    """The test engine's configuration polling at the production minimum interval (1 s): on
    virtual time a wait costs nothing, and each poll costs real work."""
    return engine_config(tmp_path, min_poll_s=PollConfig().min_interval_s, **quoting)


@asynccontextmanager
async def sim_engine(
    tmp_path: Path, venue: SimVenue, *, config: EngineConfig | None = None, **engine: Any
) -> AsyncIterator[SimRunning]:
    """The engine quoting `venue`, on the virtual-time loop's clock."""
    config = config or sim_config(tmp_path)
    async with engine_on(venue, virtual_clock(), config, **engine) as running:
        yield SimRunning(running.engine, running.stop, venue)


@dataclass(frozen=True)
class Broken:
    """A strategy that raises on every RFQ: its fault rate kills."""

    def price(self, rfq: Rfq, market: MarketSnapshot) -> object:
        raise RuntimeError("division by zero in the quant's code")
