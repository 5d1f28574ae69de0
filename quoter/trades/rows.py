"""A trade as one flat row, pure: the columns the desk's systems read, in a fixed order."""

from __future__ import annotations

from datetime import UTC, datetime

from quoter.domain.market import Action, Instrument
from quoter.domain.trading import Trade

SUFFIXES = (".csv", ".parquet")  # the trade file's formats, by its name
COLUMNS = (
    "trade-id",
    "short-id",
    "traded-at",
    "venue",
    "rfq-id",
    "quote-id",
    "action",
    "commodity",
    "market-area",
    "load",
    "settlement",
    "product-type",
    "product-label",
    "delivery-start",
    "delivery-end",
    "quantity-mw",
    "price",
    "currency",
    "counterparty",
    "source",
)
PENDING_PREFIX = "pending:"  # a fill the bot saw before the venue's trade: replaced by it

Row = dict[str, str | float]
# What merging by trade id needs of a file: without them it is not a trade file, and rewriting
# it as one would lose what it holds.
KEY_COLUMNS = ("trade-id", "traded-at", "rfq-id")


class TradeFileError(Exception):
    """The trade file cannot be read as one (damaged, not a trade file, unreadable) or cannot
    be written; the message names the file. The file is left as it is."""


def iso(at: datetime) -> str:
    """UTC, milliseconds, `Z`: sorts as text in the same order as in time."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def product_of(instrument: Instrument | None) -> tuple[str, str]:
    """The product type and label columns: empty where it is not known."""
    if instrument is None:
        return "", ""
    return str(instrument.product_type), instrument.product_label


def trade_row(trade: Trade, source: str = "venue", quoted: Instrument | None = None) -> Row:
    """`quoted`: the instrument of the RFQ the bot quoted, where it knows it; its product fills
    the row when the venue's trade names none (the contract's trade does not)."""
    i = trade.instrument
    product_type, product_label = product_of(i if trade.product_named else quoted)
    return {
        "trade-id": trade.id,
        "short-id": trade.short_id,
        "traded-at": iso(trade.traded_at),
        "venue": trade.venue,
        "rfq-id": trade.rfq_id,
        "quote-id": trade.quote_id,
        "action": str(trade.action),
        "commodity": str(i.commodity),
        "market-area": i.market_area,
        "load": str(i.load),
        "settlement": i.settlement,
        "product-type": product_type,
        "product-label": product_label,
        "delivery-start": iso(i.start),
        "delivery-end": iso(i.end),
        "quantity-mw": float(trade.quantity_mw),
        "price": float(trade.price.value),
        "currency": trade.price.currency,
        "counterparty": trade.counterparty_name,
        "source": source,
    }


def fill_row(
    rfq_id: str,
    side: Action,
    price: float,
    at: datetime,
    *,
    quote_id: str = "",
    venue: str = "",
    quoted: Instrument | None = None,
) -> Row:
    """What the bot knows of a fill before the venue's trade record: kept as pending until a
    trade for the same RFQ arrives and takes its place, handing it the product of the RFQ
    quoted (`quoted`), which the venue's trade does not name."""
    row: Row = dict.fromkeys(COLUMNS, "")
    product_type, product_label = product_of(quoted)
    row.update(
        {
            "trade-id": f"{PENDING_PREFIX}{rfq_id}",
            "traded-at": iso(at),
            "venue": venue,
            "rfq-id": rfq_id,
            "quote-id": quote_id,
            "action": str(side),
            "product-type": product_type,
            "product-label": product_label,
            "quantity-mw": float("nan"),
            "price": float(price),
            "source": "bot-fill",
        }
    )
    return row
