from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from quoter.audit import events
from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import DecisionRow, RecordingAudit, RunSpec
from quoter.backtest.fills import AuctionFill, LogisticFill, fit_logistic
from quoter.backtest.report import write_report, write_tables
from quoter.backtest.results import tables
from quoter.backtest.tape import TapeRfq
from tests.backtest.helpers import inputs_for, run, short_tape, tape_of


def _tables(tmp_path: Path, fills: AuctionFill | LogisticFill) -> dict[str, pd.DataFrame]:
    tape = tape_of(short_tape(30))
    curves = DailyCurves(None, tape.start.date())
    return tables(run(tape, fills, tmp_path, curves), curves)


def test_same_tape_and_seed_give_identical_results(tmp_path: Path) -> None:
    first = _tables(tmp_path / "a", LogisticFill(-0.35, 1.2, seed=3))
    second = _tables(tmp_path / "b", LogisticFill(-0.35, 1.2, seed=3))
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])
    assert len(first["fills"]) > 0
    assert len(first["decisions"]) >= first["summary"].rfqs.iloc[0] * 0.9


def test_the_auction_fills_exactly_the_quotes_better_than_the_competitor(tmp_path: Path) -> None:
    tape = tape_of(short_tape(30))
    replayed = run(tape, AuctionFill(), tmp_path)
    entries = {t.id: t for t in tape}
    won = {t.rfq_id for t in replayed.venue.market.trades}
    assert won
    for trade in replayed.venue.market.trades:
        entry = entries[trade.rfq_id]
        assert _fills(entry, trade.price.value)
    for quote in replayed.venue.market.quotes.values():
        if quote.status == "lost" and quote.rfq_id not in won:
            entry = entries[quote.rfq_id]
            if entry.cancel_at is None or entry.cancel_at >= entry.rfq.quote_deadline:
                ours = quote.price.value if quote.price else None
                if ours is not None:
                    assert not _fills(entry, ours)


def _fills(entry: TapeRfq, ours: float) -> bool:
    return AuctionFill().wins(entry, ours)


def test_the_logistic_fit_recovers_its_parameters() -> None:
    rng = np.random.default_rng(1)
    edges = rng.normal(0, 2, 20_000)
    p = 1 / (1 + np.exp(-(-0.4 + 1.5 * edges)))
    won = rng.random(edges.size) < p
    a, b = fit_logistic(edges, won)
    assert abs(a + 0.4) < 0.06
    assert abs(b - 1.5) < 0.08


def test_the_report_renders(tmp_path: Path) -> None:
    result = _tables(tmp_path, AuctionFill())
    write_tables(result, tmp_path / "out")
    inputs = inputs_for(tape_of(short_tape(minutes=10.0)))
    page = write_report(result, tmp_path / "out", inputs).read_text()
    assert page.count("data:image/png;base64,") == 3
    assert (tmp_path / "out" / "fills.parquet").is_file()
    assert (tmp_path / "out" / "summary.csv").is_file()


def test_a_run_labelled_by_many_parameters_still_quotes(tmp_path: Path) -> None:
    label = "curve_spread " + " ".join(f"parameter_{i}=[[25,0.0],[100,0.05]]" for i in range(5))
    tape = tape_of(short_tape(minutes=10.0))
    replayed = run(tape, AuctionFill(), tmp_path, spec=RunSpec(label))
    assert replayed.desk.stats.kills == 0  # the client-quote-ids fit the venue's 100 characters
    assert replayed.desk.stats.quotes_sent > 0


def test_the_replay_keeps_each_decision_off_its_typed_event() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    priced = events.DecisionFields(
        side="sell", mid=50.0, price=52.5, bid=None, ask=None, components={},
        delivery_hours=24.0, energy_mwh=240.0, curve_id="c", curve_as_of=at.isoformat(),
    )  # fmt: skip
    sent = events.SentFields(price=52.5, bid=None, ask=None, requote=False)
    audit = RecordingAudit()
    audit.write(events.Unknown("rfq", {"rfq-id": "r-1"}), at)
    audit.write(
        events.QuoteIntent(
            rfq_id="r-1", client_quote_id="q-1", strategy="s", params={}, strategy_version=None,
            curve_age_s=1.0, decision=priced, checks=(), sent=sent, valid_until=at.isoformat(),
        ),
        at,
        durable=True,
    )  # fmt: skip
    audit.write(
        events.QuoteDeclined(
            rfq_id="r-2", reason="limit", detail="", strategy="s", decision=priced
        ),
        at,
    )
    audit.write(events.QuoteDeclined(rfq_id="r-3", reason="no-curve", detail="", strategy="s"), at)
    assert audit.decisions == [
        DecisionRow(at, "r-1", "quote", None, "sell", 50.0, 52.5, None, None),
        DecisionRow(at, "r-2", "decline", "limit", "sell", 50.0, 52.5, None, None),
        DecisionRow(at, "r-3", "decline", "no-curve", None, None, None, None, None),
    ]
