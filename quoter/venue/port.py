"""The `Venue` port: the handful of operations the engine needs from entender.

The HTTP client, the backtest's simulated venue and test fakes all satisfy it structurally.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from quoter.domain import LoadShape, Page, Quote, QuoteRequest, QuoteStatus, Rfq, RfqStatus, Trade


class Venue(Protocol):
    async def list_rfqs(
        self,
        *,
        status: RfqStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Rfq]:
        """RFQs visible to us; with `updated_since`, oldest update first."""
        ...

    async def get_rfq(self, rfq_id: str) -> Rfq: ...

    async def get_load_shape(self, rfq_id: str) -> LoadShape: ...

    async def submit_quote(self, request: QuoteRequest) -> Quote:
        """Idempotent by `client_quote_id`: resending the same request creates nothing."""
        ...

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None: ...

    async def list_quotes(
        self,
        *,
        status: QuoteStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
        for_withdrawal: bool = False,
    ) -> Page[Quote]:
        """Our quotes; `for_withdrawal`: the read a withdrawal sweep needs, spent from the
        withdrawal lane and its reserve, so a kill is never starved by polling."""
        ...

    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]: ...
