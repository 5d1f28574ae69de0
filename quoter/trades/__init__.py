"""Trade capture: our trades from the venue as rows for the desk's portfolio and risk systems,
kept in one CSV or Parquet file that re-runs never fill twice.

`TradeStore` (the file, read and written with pandas) is imported on first use: the running bot
imports this package for its recorder's type, and a bot with no trade file never needs pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quoter.trades.recorder import TradeRecorder
from quoter.trades.rows import COLUMNS, fill_row, trade_row

if TYPE_CHECKING:
    from quoter.trades.store import TradeStore

__all__ = ["COLUMNS", "TradeRecorder", "TradeStore", "fill_row", "trade_row"]


def __getattr__(name: str) -> object:
    if name == "TradeStore":
        from quoter.trades.store import TradeStore

        return TradeStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
