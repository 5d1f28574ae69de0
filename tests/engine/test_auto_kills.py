"""Each automatic kill of the engine, brought about end to end against the real sandbox over
HTTP, halts quoting; the tests read the kill's reason from the kill switch, never from logs.

Not here: venue error rate, rate-limit answers, strategy fault rate and stale curves
(test_engine_e2e.py), and the reconciliation kill. The kill on a fill beyond the position
limit is a backstop no engine path reaches (the pre-trade check, and the exposure checks on
quotes adopted at start, keep every quote within it): here, what keeps it unreached."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from quoter.engine.killswitch import KillSwitch, LatchError, TradingState
from quoter.engine.reconcile import StartRefused
from quoter.risk.config import DEMO_RISK
from quoter.sandbox.server import RunningSandbox
from tests.engine.harness import (
    DEADLINE_S,
    SHORT_STOP,
    WIN,
    Running,
    audit_records,
    engine_config,
    eventually,
    fast_sandbox,
    left_by_a_crash,
    month_ahead,
    running_engine,
)
from tests.venue.contract import advance, control, counters, fault, new_rfq


def _reasons(bot: Running) -> list[str]:
    return [k.reason for k in bot.deps.killswitch.kills]


def _latched(tmp_path: Path) -> list[str]:
    """The kills on disk, as a restarted bot would find them."""
    return [k.reason for k in KillSwitch(tmp_path / "kill.json").kills]


async def _halted(bot: Running) -> None:
    await eventually(lambda: bot.deps.killswitch.state is TradingState.HALTED, "a kill")


async def _started(tmp_path: Path) -> None:
    await eventually(lambda: bool(audit_records(tmp_path, "reconciled")), "reconciled")


async def _nothing_more_is_quoted(sandbox: RunningSandbox, bot: Running) -> None:
    """A new RFQ is seen and declined as killed; no quote goes out."""
    sent = bot.desk.stats.quotes_sent
    created = (await counters(sandbox))["quotes-created"]
    killed = bot.desk.stats.declined["killed"]
    await new_rfq(sandbox, **month_ahead())
    await eventually(lambda: bot.desk.stats.declined["killed"] == killed + 1, "a killed decline")
    assert bot.desk.stats.quotes_sent == sent
    assert (await counters(sandbox))["quotes-created"] == created


# -- the audit trail ------------------------------------------------------------------------------


def _block_tomorrows_audit_file(sandbox: RunningSandbox, tmp_path: Path) -> Path:
    """The engine keeps today's audit file open, so nothing done to it fails a write (and root
    writes through any mode): the file the next UTC day opens is made a directory instead."""
    tomorrow = (sandbox.clock.now() + timedelta(days=1)).astimezone(UTC).date()
    blocked = tmp_path / "audit" / f"audit-{tomorrow.isoformat()}.jsonl"
    blocked.mkdir(parents=True)
    return blocked


async def test_an_audit_trail_that_cannot_be_written_halts_quoting(tmp_path: Path) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await _started(tmp_path)
        blocked = _block_tomorrows_audit_file(sandbox, tmp_path)
        await advance(sandbox, 24 * 3600)  # Tuesday, 10:00 in Berlin: the market is open
        await new_rfq(sandbox, **month_ahead())  # seen: its record is the first of the day
        await _halted(bot)
        reasons = _reasons(bot)
        await eventually(lambda: bot.desk.stats.declined["killed"] == 1, "the RFQ declined")
        assert bot.desk.stats.quotes_sent == 0
        assert (await counters(sandbox))["quotes-created"] == 0
    assert len(reasons) == 1
    assert reasons[0].startswith("audit write failed: ")
    assert str(blocked) in reasons[0]  # the error names the file that could not be opened
    assert _latched(tmp_path) == reasons


async def test_a_quote_whose_intent_cannot_be_audited_is_not_sent_and_halts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        deadline = sandbox.clock.now() + timedelta(days=2)  # open across the night
        await new_rfq(sandbox, **month_ahead(), **{"quote-deadline": deadline.isoformat()})
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        _block_tomorrows_audit_file(sandbox, tmp_path)
        await advance(sandbox, 24 * 3600)  # the quote ran out: a new one is due, its intent first
        await _halted(bot)
        reasons = _reasons(bot)
        assert (await counters(sandbox))["quotes-created"] == 1  # nothing sent unaudited
        assert bot.desk.stats.requotes_sent + bot.desk.stats.quotes_sent == 1
    assert len(reasons) == 1
    assert reasons[0].startswith("audit write failed: ")
    assert _latched(tmp_path) == reasons
    # The kill's withdrawal could not be audited either: said in a line, no traceback.
    assert any("audit write failed during a withdrawal" in r.getMessage() for r in caplog.records)
    assert not [r.getMessage() for r in caplog.records if r.exc_info]


# -- the venue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revoked", "answer"),
    [
        ("api_key", r"\w+: 403 Forbidden"),  # the gateway refuses every request at once
        ("client_secret", r"authenticate: 401"),  # the token is refused, renewing it fails
    ],
)
async def test_lost_authentication_halts_quoting(tmp_path: Path, revoked: str, answer: str) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await _started(tmp_path)
        # The venue rotates our account's credential (no control does this: the sandbox's one
        # account is replaced in place); the tokens issued so far stop verifying too.
        rotated = sandbox.credentials.model_copy(update={revoked: SecretStr("rotated-" + revoked)})
        sandbox.sandbox.credentials = rotated
        await fault(sandbox, "revoke-tokens")
        await _halted(bot)
        reasons = _reasons(bot)
        assert bot.desk.stats.venue_errors["AuthenticationFailed"] >= 1
        # The account works again: the kill holds until a person resumes.
        sandbox.sandbox.credentials = sandbox.credentials
        await _nothing_more_is_quoted(sandbox, bot)
    assert len(reasons) == 1
    assert re.fullmatch(f"authentication failed: {answer}", reasons[0]), reasons
    assert _latched(tmp_path) == reasons


async def test_a_start_the_venue_refuses_halts_saying_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with fast_sandbox() as sandbox:
        wrong = sandbox.credentials.model_copy(update={"api_key": SecretStr("not-ours")})
        sandbox.sandbox.credentials = wrong  # the venue no longer knows our key
        # A stop's withdrawals may take 5 s: a venue that refuses every request ends them at
        # its first refusal, not after 5 s of the same refusal logged again and again.
        config = engine_config(tmp_path, kill={"stop_withdraw_timeout_s": 5.0})
        with pytest.raises(ExceptionGroup) as raised:
            async with running_engine(sandbox, tmp_path, config=config) as bot:
                await _halted(bot)
    assert raised.group_contains(StartRefused)
    assert _reasons(bot) == _latched(tmp_path)
    assert _reasons(bot) == ["start failed: AuthenticationFailed: authenticate: 403"]
    said = [r.getMessage() for r in caplog.records]
    assert sum("listing our quotes failed" in m for m in said) == 1, said
    [stopping] = [m for m in said if m.startswith("stopping with quotes possibly live")]
    assert "the venue refuses us (AuthenticationFailed" in stopping


async def test_a_spent_daily_quota_halts_quoting(tmp_path: Path) -> None:
    config = engine_config(tmp_path, kill=SHORT_STOP)
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path, config=config) as bot:
        await _started(tmp_path)
        # The day's quota shrinks to what is already spent: the next request is refused with
        # 429 {"message": "Limit Exceeded"}.
        spent = (await control(sandbox, "GET", "/plan"))["quota-spent"]
        await control(sandbox, "POST", "/plan", {"daily-quota": spent})
        await _halted(bot)
        reasons = _reasons(bot)
        assert (await counters(sandbox))["quota-exceeded"] >= 1
    assert len(reasons) == 1
    assert re.fullmatch(r"quota spent: \w+: 429 Limit Exceeded", reasons[0]), reasons
    assert _latched(tmp_path) == reasons


# -- the risk limits after a fill -----------------------------------------------------------------


async def test_a_book_loaded_beyond_a_lowered_limit_is_reported_and_not_added_to(
    tmp_path: Path,
) -> None:
    """The pre-trade check keeps every quote the engine sends within the limit; a book beyond
    it comes from a start, here yesterday's fill under a limit lowered since. It is reported,
    nothing is quoted that adds to it, other months still trade, and their fills do not kill."""
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, first) as bot:
            await new_rfq(sandbox, **month_ahead(), **WIN)  # 10 MW over April: 7,200 MWh
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            await advance(sandbox, DEADLINE_S + 1)
            await eventually(lambda: bot.desk.stats.won == 1, "the win")
        lowered = DEMO_RISK.model_copy(update={"max_position_mwh": 1000.0})
        async with running_engine(sandbox, second, risk=lowered, run_id="second") as bot:
            await _started(second)
            await new_rfq(sandbox, **month_ahead(), **WIN)  # April again: refused
            await eventually(lambda: bot.desk.stats.declined["position-limit"] == 1, "refused")
            await new_rfq(sandbox, **WIN)  # day-ahead, in March: 240 MWh, within the limit
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the day-ahead quote")
            await advance(sandbox, DEADLINE_S + 1)
            await eventually(lambda: bot.desk.stats.won == 1, "the second win")
            assert bot.deps.killswitch.state is TradingState.ACTIVE
    loaded = audit_records(second, "positions-loaded")[0]
    assert loaded["beyond-limit"] == ["power/DE 2026-04"]


async def test_a_quote_found_live_beyond_a_lowered_limit_is_withdrawn_not_adopted(
    tmp_path: Path,
) -> None:
    """A restart that adopts what an earlier run left live keeps only quotes within the limits
    on exposure: one whose fill would breach is withdrawn before quoting starts."""
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, first) as bot:
            rfq_id = await new_rfq(sandbox, **month_ahead(), **WIN)
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            crashed = next(iter(bot.desk.quotes))
        await left_by_a_crash(sandbox, first, crashed)
        assert (await counters(sandbox))["live-quotes"] == 1
        lowered = DEMO_RISK.model_copy(update={"max_position_mwh": 1000.0})
        config = engine_config(second, reconcile="adopt")
        async with running_engine(sandbox, second, risk=lowered, config=config) as bot:
            await _started(second)
            assert len(bot.desk.quotes) == 0
            assert (await counters(sandbox))["live-quotes"] == 0
            assert bot.deps.killswitch.state is TradingState.ACTIVE
    reconciled = audit_records(second, "reconciled")[0]
    assert reconciled["adopted"] == 0
    assert list(reconciled["refused"]) == [rfq_id]
    assert reconciled["refused"][rfq_id].startswith("position-limit: power/DE 2026-04: ")


async def test_an_adopted_quote_whose_rfq_ends_before_the_first_poll_is_settled(
    tmp_path: Path,
) -> None:
    """The first poll lists open RFQs only: the end of one whose quote was adopted, after the
    reconciliation and before that poll, is read by the polls after it."""
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, first) as bot:
            await new_rfq(sandbox, **month_ahead(), **WIN)
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
            crashed = next(iter(bot.desk.quotes))
        await left_by_a_crash(sandbox, first, crashed)
        # The first poll's answer is held back until after the RFQ has ended (won).
        held = {"kind": "latency", "count": 1, "latency-s": 1.0, "path": "status=open"}
        await control(sandbox, "POST", "/faults", held)
        config = engine_config(second, reconcile="adopt")
        async with running_engine(sandbox, second, config=config, run_id="second") as bot:
            await _started(second)
            assert len(bot.desk.quotes) == 1  # adopted
            await advance(sandbox, DEADLINE_S + 1)
            await eventually(lambda: bot.desk.stats.won == 1, "the win")
            assert len(bot.desk.quotes) == 0
            assert bot.desk.book.positions_mwh


async def test_too_many_fills_in_the_window_halt_quoting(tmp_path: Path) -> None:
    risk = DEMO_RISK.model_copy(update={"fill_throttle_count": 2, "fill_throttle_window_s": 60.0})
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path, risk=risk) as bot:
        for label in ("Apr-26", "May-26"):
            await new_rfq(sandbox, **month_ahead(label), **WIN)
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "two quotes")
        await advance(sandbox, DEADLINE_S + 1)  # both won at once
        await eventually(lambda: bot.desk.stats.won == 2, "two wins")
        await _halted(bot)
        reasons = _reasons(bot)
        await _nothing_more_is_quoted(sandbox, bot)
    assert reasons == ["2 fills within 60 s"]
    assert _latched(tmp_path) == reasons


# -- the kill latch -------------------------------------------------------------------------------


@pytest.mark.parametrize("broken", ["garbage", "directory"])
async def test_a_kill_latch_that_becomes_unreadable_halts_quoting(
    tmp_path: Path, broken: str
) -> None:
    latch = tmp_path / "kill.json"
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        if broken == "garbage":
            latch.write_text('[{"reason": "half a kill')  # a torn write, another process's
        else:
            latch.mkdir()
        await _halted(bot)
        reasons = _reasons(bot)
        await eventually(lambda: bot.desk.stats.withdrawn == 1, "the live quote withdrawn")
        assert (await counters(sandbox))["live-quotes"] == 0
        await _nothing_more_is_quoted(sandbox, bot)
    assert len(reasons) == 1
    assert reasons[0].startswith(f"kill latch unreadable: {latch}: unreadable kill latch")
    with pytest.raises(LatchError):  # left for a person to look at, not overwritten
        KillSwitch(latch)
