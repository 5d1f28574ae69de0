"""The running bot's side of trade capture: the engine hands over what it learns of fills and
the trade file keeps them, the same file `quoter trades export` fills."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from quoter.domain.market import Action, Instrument
from quoter.domain.trading import Trade
from quoter.trades.rows import Row, TradeFileError, fill_row, trade_row

if TYPE_CHECKING:
    # The store's module imports pandas: whoever builds a recorder imports it (quoter.app,
    # at the bot's start), so that the engine's modules, which name this class, do not.
    from quoter.trades.store import TradeStore


class TradeRecorder:
    """Called from the event loop when a fill is learnt. Each call rewrites the file (fills are
    rare: a few a minute at most); a file that cannot be read as a trade file, or written,
    raises TradeFileError for the engine to count and audit, and is left as it is."""

    def __init__(self, store: TradeStore) -> None:
        self._store = store

    def problem(self) -> str | None:
        """Why the trade file cannot take fills now (TradeFileError's message), or None."""
        try:
            self._store.load()
        except TradeFileError as error:
            return str(error)
        return None

    def record(self, trade: Trade, quoted: Instrument | None = None) -> bool:
        """The venue's trade (`quoted`: the instrument of the RFQ quoted, for the product the
        trade does not name); whether it was new."""
        return self._store.merge([trade_row(trade, quoted=quoted)]) == 1

    def record_all(self, trades: Iterable[Trade]) -> int:
        return self._store.merge(trade_row(t) for t in trades)

    def record_fill(
        self,
        rfq_id: str,
        side: Action,
        price: float,
        at: datetime,
        *,
        quote_id: str = "",
        venue: str = "entender",
        quoted: Instrument | None = None,
    ) -> bool:
        """A won one-way quote, known before the venue's trade: kept as pending until the trade
        for its RFQ replaces it, with the product of `quoted`, the RFQ's instrument."""
        row: Row = fill_row(rfq_id, side, price, at, quote_id=quote_id, venue=venue, quoted=quoted)
        return self._store.merge([row]) == 1
