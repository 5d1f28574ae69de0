"""A live run against the sandbox, recorded to a tape and replayed: the same prices per RFQ."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from quoter.backtest.curves import StaticCurves
from quoter.backtest.fills import AuctionFill
from quoter.backtest.record import sandbox_tape
from quoter.backtest.tape import read_tape, write_tape
from quoter.sandbox.config import MarketConfig
from tests.backtest.helpers import run
from tests.engine.harness import CURVES, audit_records, eventually, fast_sandbox, running_engine


async def test_a_recorded_sandbox_run_replays_to_the_same_prices(tmp_path: Path) -> None:
    market = MarketConfig(arrivals_per_min=120.0, custom_share=0.0, deadline_min_s=60.0)
    async with fast_sandbox(market=market) as sandbox:
        async with running_engine(sandbox, tmp_path / "live") as bot:
            # RFQs arrive twice a second: the run stops once it has quoted three of them.
            await eventually(lambda: bot.desk.stats.quotes_sent >= 3, "three quotes", 30)
        frame = sandbox_tape(sandbox.state)
    write_tape(frame, tmp_path / "tape.parquet")
    live: dict[str, Any] = {}
    for record in audit_records(tmp_path / "live", "quote-intent"):
        live.setdefault(record["rfq-id"], record["decision"])
    tape = read_tape(tmp_path / "tape.parquet")
    replayed = await asyncio.to_thread(
        run, tape, AuctionFill(), tmp_path / "replay", StaticCurves(CURVES)
    )
    again: dict[str, Any] = {}
    for row in replayed.audit.decisions:
        if row.action == "quote":
            again.setdefault(row.rfq_id, row)
    assert len(live) >= 3
    assert live.keys() <= again.keys()  # every RFQ quoted live is quoted in the replay
    for rfq_id in live:
        ours, theirs = live[rfq_id], again[rfq_id]
        assert (ours["price"], ours["bid"], ours["ask"]) == (theirs.price, theirs.bid, theirs.ask)
