"""The peer's side of `python -m benchmarks peer`: NautilusTrader's BacktestEngine on a workload
comparable to a quoter replay: per event (a quote tick) one decision, one limit order, and one
cancel-or-fill (the order fills on the next tick if the market crosses it, else it is cancelled).

Run by the peer's own interpreter (NautilusTrader pins pandas < 3, quoter needs pandas >= 3, so
they cannot share a virtualenv): `python benchmarks/peer_nautilus.py EVENTS` prints one JSON
line with the events, the seconds `engine.run()` took, and the orders, fills and cancels.
Imports nothing of quoter.
"""

from __future__ import annotations

import json
import random
import sys
import time
from decimal import Decimal

from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.events import OrderCanceled, OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

START_NS = 1_772_434_800_000_000_000  # 2026-03-02 07:00 UTC, the sample tape's first day
STEP_NS = 20_000_000  # 20 ms between ticks: 3,000 a minute, the dense tape's pace


class QuoteEachTickConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    edge: float = 0.00002


class QuoteEachTick(Strategy):
    """On each tick: cancel the last order if it is still open, decide a price, send a limit."""

    def __init__(self, config: QuoteEachTickConfig) -> None:
        super().__init__(config)
        self.order: LimitOrder | None = None
        self.orders = self.fills = self.cancels = 0
        self.rng = random.Random(7)

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.subscribe_quote_ticks(self.config.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        if self.order is not None and self.order.is_open:
            self.cancel_order(self.order)
        mid = (float(tick.bid_price) + float(tick.ask_price)) / 2
        side = OrderSide.BUY if self.rng.random() < 0.5 else OrderSide.SELL
        sign = -1.0 if side is OrderSide.BUY else 1.0
        price = mid + sign * self.config.edge * self.rng.random()
        self.order = self.order_factory.limit(
            instrument_id=self.config.instrument_id,
            order_side=side,
            quantity=self.instrument.make_qty(1000),
            price=self.instrument.make_price(price),
            post_only=False,
        )
        self.submit_order(self.order)
        self.orders += 1

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills += 1

    def on_order_canceled(self, event: OrderCanceled) -> None:
        self.cancels += 1


def ticks(instrument_id: InstrumentId, events: int) -> list[QuoteTick]:
    rng = random.Random(11)
    mid, out = 1.10000, []
    size = Quantity.from_int(1_000_000)
    for i in range(events):
        mid += rng.gauss(0.0, 0.00002)
        at = START_NS + i * STEP_NS
        bid, ask = Price(mid - 0.00001, 5), Price(mid + 0.00001, 5)
        out.append(QuoteTick(instrument_id, bid, ask, size, size, at, at))
    return out


def run(events: int) -> dict[str, float]:
    config = BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True))
    engine = BacktestEngine(config=config)
    engine.add_venue(
        venue=Venue("SIM"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        starting_balances=[Money(10**12, USD)],
        base_currency=USD,
        default_leverage=Decimal(1),
    )
    instrument = TestInstrumentProvider.default_fx_ccy("EUR/USD", Venue("SIM"))
    engine.add_instrument(instrument)
    engine.add_data(ticks(instrument.id, events))
    strategy = QuoteEachTick(QuoteEachTickConfig(instrument_id=instrument.id))
    engine.add_strategy(strategy)
    started = time.perf_counter()
    engine.run()
    elapsed = time.perf_counter() - started
    figures = {
        "events": events,
        "seconds": elapsed,
        "orders": strategy.orders,
        "fills": strategy.fills,
        "cancels": strategy.cancels,
    }
    engine.dispose()
    return figures


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
