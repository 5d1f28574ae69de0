"""Trade capture: our trades from the venue as rows for the desk's portfolio and risk systems,
kept in one CSV or Parquet file that re-runs never fill twice."""

from quoter.trades.recorder import TradeRecorder
from quoter.trades.rows import COLUMNS, fill_row, trade_row
from quoter.trades.store import TradeStore

__all__ = ["COLUMNS", "TradeRecorder", "TradeStore", "fill_row", "trade_row"]
