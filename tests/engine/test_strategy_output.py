"""A strategy's wrong answer, as the running engine meets it: declined and counted as a
strategy fault, and the engine goes on quoting (the next strategy's quotes go out). On a
SimVenue and virtual time; over a real socket, a decline sending nothing is
test_curve_safety.py's and a swap then quoting is test_swap.py's."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from quoter.domain import Rfq
from quoter.engine.state import StrategySlot
from quoter.strategies_api import MarketSnapshot, QuoteDecision, load_strategy
from tests.engine.harness import audit_records, eventually
from tests.engine.sim import arriving, sim_config, sim_engine, sim_venue, virtual


@dataclass(frozen=True)
class DecimalPrice:
    """The built-in's quote with its price as a Decimal, as a desk's quant might write it."""

    def price(self, rfq: Rfq, market: MarketSnapshot) -> object:
        decision = load_strategy("curve_spread", {}).price(rfq, market)
        assert isinstance(decision, QuoteDecision)
        return decision._replace(price=Decimal(str(decision.price)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Exits:
    """A strategy that calls sys.exit."""

    def price(self, rfq: Rfq, market: MarketSnapshot) -> object:
        raise SystemExit(3)


@virtual
@pytest.mark.parametrize(
    ("strategy", "reason", "in_thread"),
    [
        (DecimalPrice(), "strategy-invalid", True),
        (DecimalPrice(), "strategy-invalid", False),
        (Exits(), "strategy-error", False),  # inline: no thread to catch it
    ],
)
async def test_a_wrong_answer_is_declined_and_the_engine_keeps_quoting(
    tmp_path: Path, strategy: object, reason: str, in_thread: bool
) -> None:
    # The second RFQ arrives 9 s after the first, seconds of virtual time after the swap below.
    venue = sim_venue([arriving(0), arriving(1, at_s=10)])
    config = sim_config(tmp_path, strategy_in_thread=in_thread)
    async with sim_engine(tmp_path, venue, config=config, strategy=strategy) as bot:
        await eventually(lambda: bot.desk.stats.declined[reason] == 1, "the decline")
        assert bot.desk.stats.quotes_sent == 0
        assert not bot.venue.market.quotes  # nothing reached the venue
        good = StrategySlot("curve-spread", load_strategy("curve_spread", {}))
        bot.engine.swap(good, by="test", source="test")
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote after the decline", 30)
        assert bot.live_quotes() == 1
    declines = [r for r in audit_records(tmp_path, "decline") if r["reason"] == reason]
    assert len(declines) == 1
    assert declines[0]["rfq-id"] == "rfq-000"
    if reason == "strategy-invalid":
        assert declines[0]["detail"] == "a strategy returned price as Decimal, not a float"
    assert not bot.deps.killswitch.kills
