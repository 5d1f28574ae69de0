"""Shadow quoting: a second strategy prices every RFQ the live one prices, sends nothing, and
its decisions land in the trail, the metrics and the report. The engine on a SimVenue and
virtual time; over a real socket, the shadow sending nothing is test_swap.py's
test_a_changed_config_file_swaps_and_a_bad_one_does_not (the venue counts one quote)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quoter.audit.trail import JsonlAudit
from quoter.cli import main
from quoter.domain import Rfq
from quoter.engine.killswitch import TradingState
from quoter.engine.shadow import report
from quoter.engine.state import StrategySlot
from quoter.metrics.engine_metrics import strategies
from quoter.strategies_api import Decision, MarketSnapshot, load_strategy
from tests.audit.records import fill, outcome, quote_intent
from tests.engine.harness import audit_records, eventually
from tests.engine.sim import arriving, sim_engine, sim_venue, virtual


@dataclass(frozen=True)
class Broken:
    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        raise RuntimeError("shadow bug")


def _samples(desk: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in strategies(desk)
        for s in family.samples
    }


@virtual
async def test_the_shadow_prices_beside_the_live_strategy_and_sends_nothing(
    tmp_path: Path, capsys: Any
) -> None:
    wider: dict[str, object] = {"credit_default_eur_mwh": 0.55}
    venue = sim_venue([arriving(n, at_s=5) for n in range(3)])  # after the shadow is set
    async with sim_engine(tmp_path, venue) as bot:
        slot = StrategySlot("curve_spread", load_strategy("curve_spread", wider), wider)
        bot.engine.shadow(slot, by="test", source="test")
        await eventually(lambda: bot.desk.stats.shadow_decisions["quote"] == 3, "three shadows")
        assert bot.desk.stats.quotes_sent == 3
        assert len(bot.venue.market.quotes) == 3  # the shadow sent nothing
        samples = _samples(bot.desk)
    shadows = audit_records(tmp_path, "shadow")
    assert len(shadows) == 3
    for record in shadows:
        assert (record["decision"], record["live"]["decision"]) == ("quote", "quote")
        assert record["differs"] == "price"
        assert abs(abs(record["difference-eur-mwh"]) - 0.5) < 1e-9
        assert abs(abs(record["price"] - record["live"]["price"]) - 0.5) < 1e-9
        assert record["params"] == wider
    assert samples[("quoter_shadow_comparisons_total", (("differs", "price"),))] == 3
    assert samples[("quoter_shadow_decisions_total", (("decision", "quote"),))] == 3
    assert samples[("quoter_shadow_price_difference_eur_mwh_count", ())] == 3
    assert samples[("quoter_shadow_strategy_info", (("strategy", "curve_spread"),))] == 1
    found = report(audit_records(tmp_path))
    assert (found["decisions"], found["differ"], found["differ-rate"]) == (3, 3, 1.0)
    assert abs(float(found["mean-abs-difference-eur-mwh"]) - 0.5) < 1e-9  # type: ignore[arg-type]
    assert main(["shadow", "report", "--dir", str(tmp_path / "audit")]) == 0
    assert "differ from live  3 (100%)" in capsys.readouterr().out
    latest = sorted((tmp_path / "audit").glob("audit-*.jsonl"))[-1]
    with latest.open("ab") as trail:
        trail.write(b'{"seq": 99, "kind": "shad')  # a record half written as the bot runs
    assert main(["shadow", "report", "--dir", str(tmp_path / "audit")]) == 0
    assert "differ from live  3 (100%)" in capsys.readouterr().out


@virtual
async def test_a_failing_shadow_never_stops_the_live_strategy(tmp_path: Path) -> None:
    venue = sim_venue([arriving(n, at_s=5) for n in range(12)])
    async with sim_engine(tmp_path, venue) as bot:
        bot.engine.shadow(StrategySlot("broken", Broken()), by="test", source="test")
        await eventually(lambda: bot.desk.stats.shadow_decisions["decline"] == 12, "12 shadows")
        assert bot.desk.stats.quotes_sent == 12
        assert bot.deps.killswitch.state is TradingState.ACTIVE  # no strategy-fault kill
    reasons = {r["reason"] for r in audit_records(tmp_path, "shadow")}
    assert reasons == {"strategy-error"}
    assert {r["differs"] for r in audit_records(tmp_path, "shadow")} == {"decision"}


def _shadow(rfq: str, live: dict[str, Any], **shadow: Any) -> dict[str, Any]:
    one = {"decision": "quote", "price": None, "bid": None, "ask": None, **shadow}
    differs = "price" if one.get("price") != live.get("price") else "same"
    diff = None
    if one["decision"] == "quote" and live["decision"] == "quote" and one["price"] is not None:
        diff = one["price"] - live["price"]
    if one["decision"] != live["decision"]:
        differs = "decision"
    return {
        "kind": "shadow",
        "rfq-id": rfq,
        "strategy": "shadow",
        "params": {},
        "live-strategy": "live",
        **one,
        "live": live,
        "differs": differs,
        "difference-eur-mwh": diff,
    }


def _sent(rfq: str, side: str | None, **prices: float) -> dict[str, Any]:
    """Our quote: one-way at `price`, or two-way at `bid` and `ask` (a spread of 2)."""
    price = prices.get("price", (prices.get("bid", 0.0) + prices.get("ask", 0.0)) / 2)
    return {"kind": "quote-intent", **quote_intent(rfq, side, price, price)}


def _outcome(rfq: str, status: str) -> dict[str, Any]:
    return {"kind": "outcome", **outcome(rfq, status)}


def test_the_report_on_a_known_trail() -> None:
    sell = {"decision": "quote", "side": "sell", "price": 100.0}
    buy = {"decision": "quote", "side": "buy", "price": 50.0}
    records = [
        # we sold at 100 and won: a shadow asking 99.5 would have won too
        _sent("a", "sell", price=100.0),
        _shadow("a", sell, side="sell", price=99.5),
        _outcome("a", "won"),
        # we asked 100 and lost: a rival asked less, so 101 would have lost
        _sent("b", "sell", price=100.0),
        _shadow("b", sell, side="sell", price=101.0),
        _outcome("b", "lost"),
        # won at 100; 100.5 might or might not have beaten the rival: unknown
        _sent("c", "sell", price=100.0),
        _shadow("c", sell, side="sell", price=100.5),
        _outcome("c", "won"),
        # we bid 50 and lost: a rival bid more, so 49 would have lost
        _sent("d", "buy", price=50.0),
        _shadow("d", buy, side="buy", price=49.0),
        _outcome("d", "lost"),
        # the shadow declined an RFQ we won: it would not have won it
        _sent("e", "sell", price=100.0),
        _shadow("e", sell, decision="decline"),
        _outcome("e", "won"),
        # two-way, we sold at our ask 101 and won: a shadow ask of 100.8 wins too
        _sent("f", None, bid=99.0, ask=101.0),
        {
            **_shadow("f", {"decision": "quote"}, bid=99.2, ask=100.8),
            "differs": "price",
            "difference-eur-mwh": 0.2,
        },
        _outcome("f", "won"),
        {"kind": "fill", **fill("f", "sell", 101.0)},
        # still open: counted as a decision, not as an outcome
        _shadow("g", sell, side="sell", price=100.0),
    ]
    found = report(records)
    assert found["decisions"] == 7
    assert found["by-kind"] == {"same": 1, "decision": 1, "side": 0, "price": 5}
    assert found["differ"] == 6
    assert found["price-differences"] == 6  # every both-quoted one, "g" (0.0) included
    assert found["max-abs-difference-eur-mwh"] == 1.0
    assert abs(float(found["mean-abs-difference-eur-mwh"]) - 3.2 / 6) < 1e-9  # type: ignore[arg-type]
    assert found["outcomes-known"] == 6
    assert found["shadow-at-venue-prices"] == {"would-win": 2, "would-lose": 3, "unknown": 1}


def test_the_report_refuses_a_malformed_record_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {**_shadow("a", {"decision": "quote", "price": 1.0}, price=1.5), "price": "1.5"}
    JsonlAudit(tmp_path).record("shadow", datetime(2026, 3, 2, tzinfo=UTC), broken)
    assert main(["shadow", "report", "--dir", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "shadow record (seq 1): price: expected a number or null, found '1.5'" in said, said
