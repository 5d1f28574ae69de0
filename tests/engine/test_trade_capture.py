"""A trade file the bot cannot use (damaged, not a trade file, or unwritable) costs only the
desk's copy of a fill: the fill still counts in the book and the trail, the engine quotes on,
the file is left as it was, and the failure is counted, audited, logged and shown in status and
metrics. The engine on a SimVenue and virtual time; the export command's side is in
tests/trades."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from quoter.engine.status import render_status, status_of
from quoter.metrics.engine_metrics import trading
from quoter.trades import TradeRecorder, TradeStore
from tests.engine.harness import audit_records, eventually
from tests.engine.sim import SimRunning, arriving, sim_engine, sim_venue, virtual

DAMAGED = {
    "torn csv": ("trades.csv", b'trade-id,traded-at,rfq-id\n"t-1,2026-03-02'),
    "not a trade file": ("trades.csv", b"name,amount\nalice,3\n"),
    "not parquet": ("trades.parquet", b"PAR1 this is no parquet file"),
}


def _failures_metric(bot: SimRunning) -> float:
    return next(
        s.value
        for family in trading(bot.deps, bot.desk)
        for s in family.samples
        if s.name == "quoter_trade_capture_failures_total"
    )


@virtual
@pytest.mark.parametrize("case", sorted(DAMAGED))
async def test_a_damaged_trade_file_loses_no_fill_and_stops_nothing(
    tmp_path: Path, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    name, content = DAMAGED[case]
    path = tmp_path / name
    path.write_bytes(content)
    recorder = TradeRecorder(TradeStore(path))
    # The first RFQ is won at its deadline (300 s); the second arrives after that fill.
    venue = sim_venue([arriving(1, at_s=1), arriving(2, at_s=400)])
    async with sim_engine(tmp_path, venue, trades=recorder) as bot:
        await eventually(lambda: bot.desk.stats.won >= 1, "the first fill", timeout_s=600)
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "the next quote", timeout_s=600)
        stats = bot.desk.stats
        assert stats.trade_capture_failures >= 1
        assert str(path) in str(stats.trade_capture_problem)
        assert _failures_metric(bot) == stats.trade_capture_failures
        shown = render_status(status_of(bot.deps, bot.desk, bot.engine.last_plan))
        assert f"TRADES  {stats.trade_capture_failures} fill(s) not in the trade file" in shown
        assert "quoter trades export" in shown
    assert path.read_bytes() == content  # nothing merged over what the file held
    fills = audit_records(tmp_path, "fill")
    assert [f["rfq-id"] for f in fills][:1] == ["rfq-001"]  # the fill itself is on the trail
    failed = audit_records(tmp_path, "trade-capture-failed")
    assert failed
    assert failed[0]["rfq-id"] == "rfq-001"
    assert str(path) in failed[0]["error"]
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    at_start = [m for m in said if "fills will not reach it until it is mended" in m]
    assert len(at_start) == 1
    assert str(path) in at_start[0]
    assert said.index(at_start[0]) < min(
        i for i, m in enumerate(said) if "not written to the trade file" in m
    )
    assert not any(r.exc_info for r in caplog.records)  # said in a line, no traceback


@virtual
async def test_a_trade_file_that_cannot_be_written_loses_no_fill(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    recorder = TradeRecorder(TradeStore(path))
    # The file is written whole through trades.csv.tmp: where that cannot be made, no write
    # can succeed (as on a full or read-only volume, which a test run as root cannot make).
    (tmp_path / "trades.csv.tmp").mkdir()
    venue = sim_venue([arriving(1, at_s=1), arriving(2, at_s=400)])
    async with sim_engine(tmp_path, venue, trades=recorder) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 2, "the next quote", timeout_s=600)
        assert bot.desk.stats.won >= 1
        assert bot.desk.stats.trade_capture_failures >= 1
        assert "cannot write trade file" in str(bot.desk.stats.trade_capture_problem)
    assert not path.exists()
    assert audit_records(tmp_path, "fill")
    assert audit_records(tmp_path, "trade-capture-failed")


@virtual
async def test_a_fill_is_kept_with_the_product_of_the_rfq_quoted(tmp_path: Path) -> None:
    # The venue's trade names no product (the contract's does not): the bot's row hands over
    # the one it quoted, which the export's trade for the RFQ takes (tests/trades).
    store = TradeStore(tmp_path / "trades.csv")
    venue = sim_venue([arriving(1, at_s=1)])
    async with sim_engine(tmp_path, venue, trades=TradeRecorder(store)) as bot:
        await eventually(lambda: bot.desk.stats.won >= 1, "the fill", timeout_s=600)
    (row,) = store.load().to_dict("records")
    assert (row["rfq-id"], row["source"]) == ("rfq-001", "bot-fill")
    assert (row["product-type"], row["product-label"]) == ("month", "Apr-26")
