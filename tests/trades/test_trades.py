"""Trade capture: rows, the merging store, and export against the real sandbox."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from quoter.cli import main
from quoter.commands.trades import export_trades
from quoter.domain import Action, Commodity, Instrument, Load, Price, ProductType, QuoteRequest
from quoter.domain.trading import Trade
from quoter.sandbox.server import RunningSandbox
from quoter.sandbox.wire import instrument_json, trade_json
from quoter.trades import COLUMNS, TradeRecorder, TradeStore, trade_row
from quoter.trades.capture import fetch_trades
from quoter.trades.rows import iso
from quoter.venue.parse import parse_trade
from tests.venue.contract import advance, client, new_rfq

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def win_rfqs(
    sandbox: RunningSandbox, tmp_path: Path, count: int, **overrides: object
) -> list[Trade]:
    """Quote `count` RFQs whose competitor is far off, let their deadlines pass: trades.
    `overrides`: the RFQs' fields (`instrument`, ...), as the sandbox's control takes them."""
    async with client(sandbox, tmp_path) as venue:
        for n in range(count):
            fields = {"competitor-price": 3000.0, "action": "buy", **overrides}
            rfq_id = await new_rfq(sandbox, **fields)
            rfq = await venue.get_rfq(rfq_id)
            # valid until the deadline: a quote that lapses before it cannot win
            request = QuoteRequest(rfq.id, f"cq-{n}", rfq.quote_deadline, price=Price(87.35))
            await venue.submit_quote(request)
        await advance(sandbox, 3600)
        trades, rejected = await fetch_trades(venue, AT.replace(hour=0), sandbox.clock.now())
    assert rejected == 0
    assert len(trades) == count
    return trades


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
async def test_export_twice_adds_nothing_twice(
    sandbox: RunningSandbox, tmp_path: Path, suffix: str
) -> None:
    won = await win_rfqs(sandbox, tmp_path, 2)
    store = TradeStore(tmp_path / f"trades{suffix}")
    async with client(sandbox, tmp_path) as venue:
        assert await export_trades(venue, store, sandbox.clock) == (2, 2, 0)
        first = store.load()
        found, added, _ = await export_trades(venue, store, sandbox.clock)  # since the latest
        assert (found, added) == (1, 0)
        assert await export_trades(venue, store, sandbox.clock, AT.replace(hour=0)) == (2, 0, 0)
    again = store.load()
    assert list(again.columns) == list(COLUMNS)
    pd.testing.assert_frame_equal(first, again)
    assert sorted(again["trade-id"]) == sorted(t.id for t in won)
    row = again.iloc[0].to_dict()
    assert row["action"] == "sell"  # the requester bought: we sold
    assert row["price"] == 87.35
    assert row["source"] == "venue"


async def test_the_cli_exports_from_a_configured_venue(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await win_rfqs(sandbox, tmp_path, 1)
    config = tmp_path / "venue.toml"
    config.write_text(
        f'[venue]\nbase_url = "{sandbox.base_url}"\n'
        f'[venue.usage_plan]\nledger_path = "{tmp_path / "cli-ledger.json"}"\n'
    )
    creds = sandbox.credentials
    monkeypatch.setenv("QUOTER_CLIENT_ID", creds.client_id.get_secret_value())
    monkeypatch.setenv("QUOTER_CLIENT_SECRET", creds.client_secret.get_secret_value())
    monkeypatch.setenv("QUOTER_API_KEY", creds.api_key.get_secret_value())
    out = tmp_path / "desk" / "trades.csv"
    # The sandbox's clock is in 2026-03; the CLI reads the real clock, so give --since.
    argv = ["trades", "export", "--config", str(config), "--since", "2026-03-01T00:00:00Z"]
    assert await asyncio.to_thread(main, [*argv, "--out", str(out)]) == 0
    assert await asyncio.to_thread(main, [*argv, "--out", str(out)]) == 0
    assert len(TradeStore(out).load()) == 1


def _trade(trade_id: str, rfq_id: str, instrument_trade: Trade) -> Trade:
    return replace(instrument_trade, id=trade_id, rfq_id=rfq_id)


async def test_a_pending_fill_gives_way_to_the_venue_trade(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    (trade,) = await win_rfqs(sandbox, tmp_path, 1)
    recorder = TradeRecorder(TradeStore(tmp_path / "bot.parquet"))
    assert recorder.record_fill(trade.rfq_id, Action.SELL, 87.35, AT, quote_id="q-1")
    assert not recorder.record_fill(trade.rfq_id, Action.SELL, 87.35, AT)  # seen already
    assert recorder.record(trade)
    assert not recorder.record(trade)
    assert recorder.record(_trade("t-other", "r-other", trade))
    frame = TradeStore(tmp_path / "bot.parquet").load()
    assert sorted(frame["trade-id"]) == sorted([trade.id, "t-other"])
    assert str(trade_row(trade)["traded-at"]).endswith("Z")


def test_the_store_refuses_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        TradeStore(tmp_path / "trades.xlsx")


MONTH = {"instrument": {"commodity": "power", "market-area": "DE", "product": {"type": "month"}}}


async def test_a_month_rfqs_trade_exports_with_its_product_never_custom(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    (trade,) = await win_rfqs(sandbox, tmp_path, 1, **MONTH)
    assert not trade.product_named  # the contract's trade names no product
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(trade.rfq_id)
        assert rfq.instrument.product_type is ProductType.MONTH
        # The venue's trade alone: its product is not known, and is not made up.
        alone = TradeStore(tmp_path / "alone.csv")
        await export_trades(venue, alone, sandbox.clock, AT.replace(hour=0))
        (row,) = alone.load().to_dict("records")
        assert (row["product-type"], row["product-label"]) == ("", "")
        # The bot's fill first, then the export: the product of the RFQ it quoted.
        bot = TradeStore(tmp_path / "bot.parquet")
        TradeRecorder(bot).record_fill(rfq.id, Action.SELL, 87.35, AT, quoted=rfq.instrument)
        await export_trades(venue, bot, sandbox.clock, AT.replace(hour=0))
        # The export first, then the fill the bot learns late: the same.
        TradeRecorder(alone).record_fill(rfq.id, Action.SELL, 87.35, AT, quoted=rfq.instrument)
    for store in (bot, alone):
        (row,) = store.load().to_dict("records")
        assert row["trade-id"] == trade.id
        assert row["product-type"] == "month"
        assert row["product-label"] == rfq.instrument.product_label != ""
        assert row["delivery-start"] == iso(rfq.instrument.start)


async def test_a_two_way_fill_records_the_venue_trade_with_the_quoted_product(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    (trade,) = await win_rfqs(sandbox, tmp_path, 1, **MONTH)
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(trade.rfq_id)
    store = TradeStore(tmp_path / "bot.csv")
    assert TradeRecorder(store).record(trade, rfq.instrument)
    (row,) = store.load().to_dict("records")
    assert (row["product-type"], row["product-label"]) == ("month", rfq.instrument.product_label)


def test_a_trade_whose_venue_names_the_product_keeps_the_venues() -> None:
    instrument = Instrument(
        commodity=Commodity.POWER,
        market_area="DE",
        load=Load.BASE,
        settlement="physical",
        start=datetime(2027, 2, 28, 23, tzinfo=UTC),
        end=datetime(2027, 3, 31, 22, tzinfo=UTC),
        product_type=ProductType.MONTH,
        product_label="Mar-27",
    )
    sent = Trade(
        "t-1",
        "TR-1",
        Action.SELL,
        AT,
        "entender",
        "r-1",
        "q-1",
        instrument,
        5.0,
        Price(87.35),
        "Stadtwerke Beispiel GmbH",
    )
    body = trade_json(sent, "/v2.2")
    assert "product" not in body["instrument"]  # type: ignore[operator]
    assert trade_row(parse_trade(body))["product-type"] == ""
    body["instrument"] = instrument_json(instrument)  # a venue that names it
    row = trade_row(parse_trade(body), quoted=replace(instrument, product_label="other"))
    assert (row["product-type"], row["product-label"]) == ("month", "Mar-27")
