"""The engine quoting the real sandbox over HTTP: quotes, declines, kills, faults, outcomes."""

from __future__ import annotations

import getpass
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from quoter.cli import main
from quoter.engine.killswitch import Kill, TradingState
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.trades.recorder import TradeRecorder
from quoter.trades.store import TradeStore
from quoter.venue.config import CREDENTIAL_VARIABLES
from quoter.venue.http import HttpVenue
from tests.conftest import SANDBOX_START
from tests.engine.harness import (
    CURVES,
    QUICK_REFILL,
    SHORT_STOP,
    audit_records,
    engine_config,
    eventually,
    fast_sandbox,
    left_by_a_crash,
    month_ahead,
    running_engine,
)
from tests.venue.contract import advance, counters, fault, new_rfq


async def test_quotes_an_rfq_and_withdraws_on_stop(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, tmp_path) as bot:
            rfq_id = await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            live = await counters(sandbox)
            assert live["live-quotes"] == 1
        after = await counters(sandbox)
        assert after["live-quotes"] == 0
        assert after["rate-limited"] == 0
    start = audit_records(tmp_path, "start")[0]
    assert start["limits"]["max_open_quotes"] == 40
    assert start["strategy"] == "curve-spread"
    intents = audit_records(tmp_path, "quote-intent")
    assert [r["rfq-id"] for r in intents] == [rfq_id]
    decision = intents[0]["decision"]
    assert abs(decision["price"] - decision["mid"]) <= 15.0  # inside the demo collar
    assert {c["code"] for c in intents[0]["checks"]} >= {"collar", "position-limit"}


async def test_rfqs_read_by_a_poll_whose_quote_lookup_fails_are_still_priced(
    tmp_path: Path,
) -> None:
    config = engine_config(tmp_path, kill=SHORT_STOP)
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path, config=config) as bot:
        await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started")
        # Every attempt at the submit times out at the gateway: its outcome stays unknown, and
        # every poll then reads the RFQs but fails to read our quotes.
        await fault(sandbox, "status", count=10, status=504, path="/quotes", method="POST")
        await fault(sandbox, "status", count=1000, status=503, path="/quotes", method="GET")
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.outcomes_unknown == 1, "an unknown outcome")
        second = await new_rfq(sandbox, **month_ahead("Apr-26 again"))
        await eventually(lambda: bot.desk.quotes.get(second) is not None, "the second priced")
        assert bot.desk.stats.venue_errors["VenueUnavailable"] >= 1


async def test_rfqs_read_by_a_poll_that_then_fails_are_still_priced(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        for _ in range(3):
            await new_rfq(sandbox, **month_ahead())
            await advance(sandbox, 5)
        # The first page (2 RFQs) is read, the second fails, retries included, twice over.
        await fault(sandbox, "status", count=8, status=503, path="skip=2")
        config = engine_config(tmp_path, page_limit=2)
        async with running_engine(sandbox, tmp_path, config=config) as bot:
            await eventually(lambda: bot.desk.stats.quotes_sent == 3, "a quote on each")
            assert bot.desk.stats.venue_errors["VenueUnavailable"] >= 1


async def test_faults_do_not_duplicate_or_crash(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        await fault(sandbox, "malformed-rfq", count=2)
        await fault(sandbox, "status", count=3, status=503, path="/rfqs")
        await fault(sandbox, "quote-504", count=2)
        async with running_engine(sandbox, tmp_path) as bot:
            for _ in range(6):
                await new_rfq(sandbox, **month_ahead())
            await eventually(
                lambda: bot.desk.stats.quotes_sent + bot.desk.stats.outcomes_unknown >= 6, "quotes"
            )
            await eventually(lambda: not bot.desk.quotes.unknown(), "unknown outcomes resolved")
            seen = await counters(sandbox)
            assert seen["duplicate-live"] == 0
            assert seen["max-live-quotes-per-rfq"] <= 1
            assert seen["live-quotes"] == 6
            assert bot.desk.stats.rfqs_malformed >= 1
            assert bot.deps.killswitch.state is TradingState.ACTIVE
    refused = audit_records(tmp_path, "rfq-refused")
    assert refused
    assert all(r["reason"] for r in refused)


@pytest.mark.parametrize(
    ("kind", "extra", "reason"),
    [
        ("status", {"status": 503}, r"venue error rate (\d+)/(\d+)"),
        ("rate-limit", {}, r"3 rate-limit answers within a minute"),
    ],
)
async def test_failing_polls_halt_quoting_by_themselves(
    tmp_path: Path, kind: str, extra: dict[str, object], reason: str
) -> None:
    # Each poll one request: a 429 empties the bucket, and the poll lane then waits for it.
    venue = {"read_retries": 0, "usage_plan": QUICK_REFILL}
    async with (
        fast_sandbox(**QUICK_REFILL) as sandbox,
        running_engine(sandbox, tmp_path, venue=venue) as bot,
    ):
        await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started")
        await fault(sandbox, kind, count=1000, path="/rfqs", **extra)
        await eventually(
            lambda: bot.deps.killswitch.state is TradingState.HALTED, "a kill", timeout_s=30
        )
        kills = [k.reason for k in bot.deps.killswitch.kills]
    assert len(kills) == 1
    matched = re.fullmatch(reason, kills[0])
    assert matched is not None, kills
    if matched.groups():  # polls before the faults may have passed: a rate over the limit
        failed, polls = map(int, matched.groups())
        assert polls >= 10
        assert failed / polls > 0.5


async def test_429s_the_retries_absorb_count_each_toward_the_kill(tmp_path: Path) -> None:
    # The default retries: a poll rides out two 429s and succeeds, yet the venue sent two.
    async with (
        fast_sandbox(**QUICK_REFILL) as sandbox,
        running_engine(sandbox, tmp_path, venue={"usage_plan": QUICK_REFILL}) as bot,
    ):
        await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "started")
        assert isinstance(bot.deps.venue, HttpVenue)
        stats = bot.deps.venue.stats
        await fault(sandbox, "rate-limit", count=2, path="/rfqs")
        polled = stats.snapshot().requests_by(endpoint="list_rfqs")
        # Two polls answered 200 after the two 429s: the poll that met them has been judged.
        await eventually(
            lambda: stats.snapshot().requests_by(endpoint="list_rfqs") >= polled + 4,
            "polls after the 429s",
        )
        assert (await counters(sandbox))["rate-limited"] == 2
        assert not stats.retries.keys() - {"list_rfqs"}
        assert bot.deps.killswitch.state is TradingState.ACTIVE  # 2 of max_rate_limited 3
        await fault(sandbox, "rate-limit", count=1, path="/rfqs")
        await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "a kill")
        kills = [k.reason for k in bot.deps.killswitch.kills]
        assert (await counters(sandbox))["rate-limited"] == 3
    assert kills == ["3 rate-limit answers within a minute"]
    assert bot.desk.stats.venue_errors.get("RateLimited", 0) == 0  # no poll failed


async def test_a_won_rfq_becomes_a_position_and_credit_use_and_a_restart_rebuilds_both(
    tmp_path: Path,
) -> None:
    async with fast_sandbox() as sandbox:
        trades = TradeStore(tmp_path / "trades.csv")
        recorder = TradeRecorder(trades)
        async with running_engine(sandbox, tmp_path / "first", trades=recorder) as bot:
            # The requester buys; a competitor far above us means we win at the deadline.
            await new_rfq(sandbox, **month_ahead(), **{"competitor-price": 3000.0})
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            await advance(sandbox, 301)
            await eventually(lambda: bot.desk.stats.won == 1, "the win")
            positions = bot.desk.book.positions_mwh
            credit = bot.desk.book.credit_used_eur
        assert positions
        assert list(credit) == ["Stadtwerke Beispiel GmbH"]  # the requester's company
        assert credit["Stadtwerke Beispiel GmbH"] > 0
        assert all(v < 0 for v in positions.values())  # we sold
        kept = trades.load()
        assert len(kept) == 1  # the fill, kept as the bot learnt it
        async with running_engine(sandbox, tmp_path / "second") as bot:
            await eventually(
                lambda: bool(audit_records(tmp_path / "second", "reconciled")), "start"
            )
            rebuilt = bot.desk.book.positions_mwh
            rebuilt_credit = bot.desk.book.credit_used_eur
        assert rebuilt.keys() == positions.keys()
        assert all(rebuilt[k] == pytest.approx(v) for k, v in positions.items())
        assert rebuilt_credit.keys() == credit.keys()  # the same company, named by the trade
        assert all(rebuilt_credit[k] == pytest.approx(v) for k, v in credit.items())
    assert audit_records(tmp_path / "first", "fill")
    loaded = audit_records(tmp_path / "second", "positions-loaded")[0]
    assert loaded["trades"] == 1
    assert loaded["complete"] is True
    assert loaded["credit-used-eur"] == pytest.approx(credit)


async def test_a_restart_withdraws_what_an_earlier_run_left_live(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox:
        first, second = tmp_path / "first", tmp_path / "second"
        async with running_engine(sandbox, first) as bot:
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            crashed = next(iter(bot.desk.quotes))
        await left_by_a_crash(sandbox, first, crashed)
        assert (await counters(sandbox))["live-quotes"] == 1
        async with running_engine(sandbox, second) as bot:
            await eventually(lambda: bot.desk.stats.withdrawn == 1, "the orphan withdrawn")
            assert (await counters(sandbox))["live-quotes"] == 0
            assert bot.deps.killswitch.state is TradingState.ACTIVE
    assert audit_records(second, "reconciled")[0]["found-live"] == 1


async def test_outside_market_hours_nothing_is_quoted(tmp_path: Path) -> None:
    saturday = SANDBOX_START + timedelta(days=5)
    async with fast_sandbox(start=saturday) as sandbox, running_engine(sandbox, tmp_path) as bot:
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.engine.last_plan.reason == "closed", "closed")
        spent = (await counters(sandbox))["requests"]
        assert bot.desk.stats.quotes_sent == 0
        assert spent < 10  # reconciliation only: closed hours spend nearly nothing


async def test_quoter_kill_and_resume_reach_a_running_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUOTER_ADMIN_TOKEN", raising=False)
    for variable in CREDENTIAL_VARIABLES.values():  # the kill does not reach for the venue
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "bot.toml"
    # No admin token: the CLI writes the latch file, never a real bot's admin port.
    config.write_text(
        f'[engine.kill]\nlatch_path = "{tmp_path / "kill.json"}"\n'
        f'[admin]\ntoken_file = "{tmp_path / "no-token"}"\n'
    )
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        for _ in range(3):
            await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 3, "three quotes")
        # 1: no venue credentials in the environment, so the command withdraws nothing itself
        assert main(["kill", "--config", str(config), "--reason", "lunch"]) == 1
        await eventually(lambda: bot.desk.stats.withdrawn == 3, "withdrawn after quoter kill")
        assert (await counters(sandbox))["live-quotes"] == 0
        assert main(["resume", "--config", str(config)]) == 0
        await eventually(lambda: bot.deps.killswitch.state is TradingState.ACTIVE, "resumed")
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 4, "quoting again")
    switched = [(r["state"], r["kills"]) for r in audit_records(tmp_path, "kill-switch")]
    by = f"{getpass.getuser()} (cli)"
    assert switched == [("halted", [f"kill 1: lunch (by {by})"]), ("active", [])]


def _shifted(curves: CurveSet, by_eur_mwh: float) -> CurveSet:
    return CurveSet(
        {
            key: CurveSeries(
                s.commodity,
                s.market_area,
                s.start_s,
                s.step_s,
                s.prices + by_eur_mwh,
                s.as_of,
                s.source,
            )
            for key, s in curves.items()
        }
    )


class MovedCurves:
    """Curves the test moves by hand: the engine reads `current` at every use."""

    def __init__(self, current: CurveSet) -> None:
        self.current = current


async def test_a_curve_move_requotes_live_quotes_once(tmp_path: Path) -> None:
    curves = MovedCurves(CURVES)
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path, curves=curves) as bot:
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        before = next(iter(bot.desk.quotes)).prices
        curves.current = _shifted(CURVES, 5.0)
        await eventually(lambda: bot.desk.stats.requotes_sent == 1, "the requote")
        after = next(iter(bot.desk.quotes)).prices
        assert after[0] == pytest.approx(before[0] + 5.0, abs=0.002)
        seen = await counters(sandbox)
        assert seen["live-quotes"] == 1
        assert seen["quotes-created"] == 2  # the first was superseded, not duplicated
        assert isinstance(bot.deps.venue, HttpVenue)
        stats = bot.deps.venue.stats
        polls = stats.snapshot().requests_by(endpoint="list_rfqs")
        more = lambda: stats.snapshot().requests_by(endpoint="list_rfqs") >= polls + 3  # noqa: E731
        await eventually(more, "three more polls")
        assert bot.desk.stats.requotes_sent == 1  # unchanged prices are not sent again


async def test_a_refused_requote_keeps_the_live_quote_in_hand(tmp_path: Path) -> None:
    venue = {"usage_plan": QUICK_REFILL}
    curves = MovedCurves(CURVES)
    async with (
        fast_sandbox(**QUICK_REFILL) as sandbox,
        running_engine(sandbox, tmp_path, venue=venue, curves=curves) as bot,
    ):
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        first = next(iter(bot.desk.quotes))
        await fault(sandbox, "rate-limit", count=20, path="/quotes", method="POST")
        curves.current = _shifted(CURVES, 5.0)
        await eventually(lambda: bot.desk.stats.quotes_refused == 1, "the refused requote")
        kept = next(iter(bot.desk.quotes))
        assert kept.quote_id == first.quote_id
        bot.engine.kill(Kill(reason="check", by="test", at=sandbox.clock.now()))
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the original withdrawn")
        assert (await counters(sandbox))["live-quotes"] == 0


async def test_an_rfq_stamped_far_ahead_does_not_blind_the_watch(tmp_path: Path) -> None:
    # A row whose updated-at is a day ahead of our clock (the venue's clock, a bad row) moved
    # the poll cursor there: every RFQ changed before then went unseen for the day.
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        first = await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: first in bot.desk.rfqs, "the first RFQ seen")
        held = sandbox.state.rfqs[first]
        ahead = held.rfq.updated_at + timedelta(days=1)
        sandbox.state.put_rfq(replace(held, rfq=replace(held.rfq, updated_at=ahead)))
        await eventually(
            lambda: any(r.rfq.updated_at == ahead for r in bot.desk.rfqs), "the stamp read"
        )
        second = await new_rfq(sandbox, **month_ahead("Apr-26 again"))
        await eventually(lambda: second in bot.desk.rfqs, "the RFQ after it seen")
