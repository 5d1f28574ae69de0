"""A stop against a venue that hangs: every request of the bot's waits longer than its timeout,
over HTTP against the real sandbox (its latency fault). The stop still ends within its window,
and says how long it took and which RFQs' quotes may still be live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from quoter.clock import SystemClock
from quoter.domain import Price, QuoteRequest
from quoter.engine.quotes import QuoteState
from quoter.engine.sweep import sweep
from tests.engine.harness import (
    audit_records,
    engine_config,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.venue.contract import client, fault, new_rfq

WINDOW_S = 3.0
# Past the client's 5 s request timeout, each of its retries alike; short, as the sandbox's
# close waits for the requests it holds.
HANG = {"latency-s": 8}
# The window, and the time to close what the cut-off left: measured on the engine's clock.
# Without the window's cut, the client's timeouts and retries took 44 s here.
ENDS_WITHIN_S = WINDOW_S + 5.0


@pytest.mark.parametrize("at_stop", ["quote-live", "submit-in-flight"])
async def test_a_stop_against_a_hanging_venue_ends_within_its_window(
    tmp_path: Path, at_stop: str
) -> None:
    config = engine_config(tmp_path, kill={"stop_withdraw_timeout_s": WINDOW_S})
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, tmp_path, config=config) as bot:
            await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started")
            if at_stop == "submit-in-flight":  # the drain for its answer is in the window too
                await fault(sandbox, "latency", count=10, method="POST", **HANG)
            rfq_id = await new_rfq(sandbox, **month_ahead())
            wanted = QuoteState.LIVE if at_stop == "quote-live" else QuoteState.IN_FLIGHT

            def quoted() -> bool:
                mine = bot.desk.quotes.get(rfq_id)
                return mine is not None and mine.state is wanted

            await eventually(quoted, f"the quote {wanted}")
            await fault(sandbox, "latency", count=10_000, **HANG)  # from now on, every request
            stopped_at = bot.deps.clock.monotonic()
            bot.stop.set()
        took_s = bot.deps.clock.monotonic() - stopped_at
    assert took_s < ENDS_WITHIN_S
    [stop] = audit_records(tmp_path, "stop-withdrawal")
    assert not stop["clean"]
    assert WINDOW_S <= stop["elapsed-s"] <= took_s  # the time it took, not the window's
    assert stop["possibly-live"] == [rfq_id]
    assert "cut off" in stop["result"]
    assert bot.engine.left_live == 1


@pytest.mark.parametrize("hangs", ["the list", "the withdrawal"])
async def test_a_sweep_against_a_hanging_venue_ends_within_its_time(
    tmp_path: Path, hangs: str
) -> None:
    """The sweep `quoter kill` runs when no bot answers, and the dead-man's switch when the
    bot's heartbeat stops: its time was checked only between requests, so a venue that hangs
    held it for the client's timeouts and retries (about 22 s a request) past the time given."""
    async with fast_sandbox() as sandbox, client(sandbox, tmp_path) as http:
        rfq_id = await new_rfq(sandbox, **month_ahead())
        valid_until = sandbox.clock.now() + timedelta(minutes=4)  # within its 5 min deadline
        await http.submit_quote(QuoteRequest(rfq_id, "left-live", valid_until, Price(40.0)))
        where = {"method": "DELETE"} if hangs == "the withdrawal" else {"method": "GET"}
        await fault(sandbox, "latency", count=10_000, **where, **HANG)
        clock = SystemClock()
        started = clock.monotonic()
        result = await sweep(http, clock, timeout_s=WINDOW_S)
        took_s = clock.monotonic() - started
    assert took_s < ENDS_WITHIN_S
    assert not result.complete
    assert "none live" not in result.describe()
    if hangs == "the withdrawal":
        assert [q.rfq_id for q in result.left] == [rfq_id]  # listed, and maybe live still
