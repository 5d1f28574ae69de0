"""The venue decides what is live, and no quote is forgotten: each test injects the fault a
promise guards against, over HTTP against the real sandbox. The close of trading's sweep is
test_engine_sim.py's (virtual time from ten minutes before the close); the sweep of what the
venue lists over a socket is the kill's here."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from quoter.clock import Clock
from quoter.domain import Price, QuoteRequest
from quoter.engine.killswitch import Kill, TradingState
from quoter.engine.quotes import QuoteState
from quoter.metrics.engine_metrics import trading
from quoter.sandbox.server import RunningSandbox
from tests.engine.harness import (
    Running,
    audit_records,
    engine_config,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.venue.contract import advance, client, counters, fault, new_rfq

SUBMIT_ATTEMPTS = 3  # the client's submit_retries (2) + 1: every attempt meets the fault


def _kill(bot: Running, reason: str = "desk") -> None:
    bot.engine.kill(Kill(reason=reason, by="test", at=bot.deps.clock.now()))


async def test_a_quote_answered_2xx_with_a_garbled_body_is_tracked_not_forgotten(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(sandbox, "invalid-json", method="POST", path="/quotes")
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.outcomes_unknown == 1, "the garbled answer")
        # Looked for and found: tracked as live with the venue's id, never called refused.
        await eventually(
            lambda: any(q.state is QuoteState.LIVE and q.quote_id for q in bot.desk.quotes),
            "the quote found live",
        )
        assert bot.desk.stats.quotes_refused == 0
        _kill(bot)
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "withdrawn by the kill")
        assert (await counters(sandbox))["live-quotes"] == 0


async def test_a_quote_stored_seconds_after_its_504_is_withdrawn_by_the_kill(
    tmp_path: Path,
) -> None:
    """The gateway answers 504 and the venue stores the quote 6 s later: a read in between
    does not list it. It stays possibly live, is looked for again, and the kill latched in the
    meantime withdraws it once it shows."""
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(
            sandbox, "quote-504-late", count=SUBMIT_ATTEMPTS, method="POST", **{"store-after-s": 6}
        )
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.outcomes_unknown == 1, "the unknown outcome")
        _kill(bot)
        await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "halted")
        await asyncio.sleep(0.3)  # a few looks at the venue, none finding it yet
        assert len(bot.desk.quotes.unknown()) == 1  # possibly live: counted, still looked for
        assert (await counters(sandbox))["live-quotes"] == 0
        await advance(sandbox, 7)  # now it is stored
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the late quote withdrawn")
        assert (await counters(sandbox))["live-quotes"] == 0
        assert len(bot.desk.quotes) == 0
    found = [r["found"] for r in audit_records(tmp_path, "outcome-resolved")]
    assert found == ["active"]


async def test_a_kill_withdraws_what_the_venue_lists_live_and_the_book_does_not_know(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        kept = await new_rfq(sandbox, **month_ahead())
        other = await new_rfq(sandbox, **_in_area("AT"))  # no curve: the bot declines it
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the DE quote")
        await eventually(lambda: bot.desk.stats.declined["no-curve"] == 1, "AT declined")
        await _quote_as_another_client(sandbox, tmp_path, other)  # only the venue knows it
        assert (await counters(sandbox))["live-quotes"] == 2
        _kill(bot)
        await eventually(lambda: bot.desk.stats.orphans_withdrawn == 1, "the orphan withdrawn")
        await eventually(lambda: bot.desk.stats.withdrawn == 2, "both withdrawn")
        assert (await counters(sandbox))["live-quotes"] == 0
        assert bot.desk.quotes.get(kept) is None


def _in_area(area: str, **fields: Any) -> dict[str, Any]:
    rfq = month_ahead()
    return {**rfq, "instrument": {**rfq["instrument"], "market-area": area}, **fields}  # type: ignore[dict-item]


async def _quote_as_another_client(
    sandbox: RunningSandbox, tmp_path: Path, rfq_id: str, valid_for_min: float = 4
) -> None:
    """A quote on our key that the bot never sent: a second client, a lost answer."""
    request = QuoteRequest(
        rfq_id=rfq_id,
        client_quote_id=f"another-client-{rfq_id[:8]}",
        valid_until=sandbox.clock.now() + timedelta(minutes=valid_for_min),
        price=Price(80.0),
    )
    async with client(sandbox, tmp_path / "another") as http:
        await http.submit_quote(request)


async def test_every_quote_refused_halts_with_the_venues_reason(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await fault(sandbox, "invalid-quote", count=1000, method="POST")
        for _ in range(12):
            await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "a kill")
        (reason,) = [k.reason for k in bot.deps.killswitch.kills]
        assert reason.startswith("venue refused 10/10 quotes, last: ")
        assert "INVALID_QUOTE" in reason
        assert bot.desk.stats.quotes_refused >= 10  # and those in flight at the kill


class ShiftedClock:
    """The sandbox's clock, read `offset` off: a bot whose clock disagrees with the venue's."""

    def __init__(self, inner: Clock, offset: timedelta) -> None:
        self._inner = inner
        self._offset = offset

    def now(self) -> datetime:
        return self._inner.now() + self._offset

    def monotonic(self) -> float:
        return self._inner.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def test_a_clock_behind_the_venues_is_reported_and_quotes_nothing(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        behind = ShiftedClock(sandbox.clock, -timedelta(minutes=10))
        async with running_engine(sandbox, tmp_path, clock=behind) as bot:
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: "clock-skew" in bot.deps.killswitch.conditions, "skew seen")
            await eventually(lambda: bot.desk.stats.declined["reducing"] >= 1, "declined")
            assert bot.deps.killswitch.state is TradingState.REDUCING
            assert bot.desk.stats.quotes_sent == bot.desk.stats.quotes_refused == 0
            offset = bot.desk.stats.clock_offset_s
            assert offset is not None
            assert offset < -590
            shown = {m.name: m for m in trading(bot.deps, bot.desk)}["quoter_trading_condition"]
            assert {s.labels["code"]: s.value for s in shown.samples} == {"clock-skew": 1.0}
    (record,) = audit_records(tmp_path, "clock-skew")
    assert "behind the venue's" in record["detail"]


async def test_a_clock_ahead_of_the_venues_stops_quoting_after_the_first_answer(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox:
        ahead = ShiftedClock(sandbox.clock, timedelta(seconds=30))
        async with running_engine(sandbox, tmp_path, clock=ahead) as bot:
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: "clock-skew" in bot.deps.killswitch.conditions, "skew seen")
            await new_rfq(sandbox, **month_ahead("Apr-26 b"))
            await eventually(lambda: bot.desk.stats.declined["reducing"] >= 1, "declined")
            assert bot.desk.stats.quotes_sent == 1
            offset = bot.desk.stats.clock_offset_s
            assert offset is not None
            assert 29 < offset < 31


async def test_a_start_waits_out_the_venues_bad_minute(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        await fault(sandbox, "status", count=6, status=503, path="/trades")
        config = engine_config(tmp_path)
        async with running_engine(sandbox, tmp_path, config=config) as bot:
            await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started", 20)
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoting")
            assert bot.deps.killswitch.state is TradingState.ACTIVE
            assert not bot.deps.killswitch.kills
    assert len(audit_records(tmp_path, "start-retry")) >= 1
    (loaded,) = audit_records(tmp_path, "positions-loaded")  # one read counted, not two
    assert loaded["complete"] is True


async def test_a_kill_withdraws_every_quote_while_the_venue_fails_withdrawals(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        for _ in range(5):
            await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 5, "five quotes")
        # More 503s than the client's own retries of one withdrawal (3) absorb.
        await fault(sandbox, "status", count=12, status=503, method="DELETE")
        assert (await counters(sandbox))["by-status"].get("503", 0) == 0
        _kill(bot)
        await eventually(lambda: bot.desk.stats.withdrawn == 5, "all withdrawn", 20)
        seen = await counters(sandbox)
        assert seen["live-quotes"] == 0
        assert seen["by-status"]["503"] == 12  # every fault was met
    passes = audit_records(tmp_path, "withdrawal-pass")
    assert passes[0]["complete"] is True
