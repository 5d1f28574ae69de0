"""Immutable domain values: what the venue's JSON means once it has been parsed and checked."""

from quoter.domain.market import (
    Action,
    Commodity,
    Instrument,
    Load,
    LoadShape,
    ProductType,
)
from quoter.domain.rfq import MyQuoteStatus, QuoteType, Rfq, RfqStatus
from quoter.domain.trading import Page, Price, Quote, QuoteRequest, QuoteStatus, RejectedItem, Trade

__all__ = [
    "Action",
    "Commodity",
    "Instrument",
    "Load",
    "LoadShape",
    "MyQuoteStatus",
    "Page",
    "Price",
    "ProductType",
    "Quote",
    "QuoteRequest",
    "QuoteStatus",
    "QuoteType",
    "RejectedItem",
    "Rfq",
    "RfqStatus",
    "Trade",
]
