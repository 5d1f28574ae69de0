"""`HttpVenue`: the `Venue` port spoken over HTTP to enmacc CONNECT (or any venue following
docs/venue-contract.md), behind the usage-plan guard, with tokens, retries and validation.

    async with HttpVenue.open(config, credentials, clock) as venue:
        page = await venue.list_rfqs(status=RfqStatus.OPEN)
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import TypeVar

import aiohttp

from quoter.basics.usage import GuardState, Lane
from quoter.clock import Clock
from quoter.domain import LoadShape, Page, Quote, QuoteRequest, QuoteStatus, Rfq, RfqStatus, Trade
from quoter.venue.config import VenueConfig, VenueCredentials
from quoter.venue.encode import QueryValue, json_bytes, path_segment, quote_body, traded_at_range
from quoter.venue.errors import MalformedResponse, RetrySafe, SubmitOutcomeUnknown
from quoter.venue.guard import UsageGuard
from quoter.venue.ledger import QuotaLedger
from quoter.venue.parse import parse_load_shape, parse_page, parse_quote, parse_rfq, parse_trade
from quoter.venue.retry import Backoff, retried, submitted
from quoter.venue.session import VenueSession
from quoter.venue.stats import VenueStats
from quoter.venue.transport import Answer

log = logging.getLogger(__name__)

T = TypeVar("T")


class HttpVenue:
    """The HTTP adapter. Build it with `HttpVenue.open(...)`, which owns the aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: VenueConfig,
        credentials: VenueCredentials,
        clock: Clock,
        *,
        guard: UsageGuard,
        stats: VenueStats,
        rng: random.Random,
    ) -> None:
        self._session = VenueSession(session, config, credentials, clock, guard, stats)
        self._config = config
        self._clock = clock
        self._guard = guard
        self._stats = stats
        self._rng = rng
        self._backoff = Backoff(config.backoff_base_s, config.backoff_max_s)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        config: VenueConfig,
        credentials: VenueCredentials,
        clock: Clock,
        *,
        stats: VenueStats | None = None,
        rng: random.Random | None = None,
    ) -> AsyncIterator[HttpVenue]:
        """A venue client with its own connection pool, closed on exit."""
        stats = VenueStats() if stats is None else stats
        ledger = QuotaLedger(config.usage_plan.ledger_path, credentials.api_key.get_secret_value())
        guard = UsageGuard(config.usage_plan, clock, ledger, stats)
        connector = aiohttp.TCPConnector(limit=config.max_connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield cls(
                session,
                config,
                credentials,
                clock,
                guard=guard,
                stats=stats,
                rng=random.Random() if rng is None else rng,
            )

    def __repr__(self) -> str:
        return f"HttpVenue({self._config.base_url!r})"

    @property
    def stats(self) -> VenueStats:
        return self._stats

    def guard_state(self) -> GuardState:
        """Spent today, what each lane has left, tokens now: for the engine's polling plan."""
        return self._guard.state()

    def ledger_failsafe(self) -> str | None:
        return self._guard.ledger_failsafe()

    def poll_allowance(self) -> tuple[date, int]:
        return self._guard.allowance(Lane.POLL)

    def rate_limited_answers(self, window_s: float) -> tuple[int, int]:
        return self._guard.rate_limited_answers(window_s)

    # -- the port ----------------------------------------------------------------------------

    async def list_rfqs(
        self,
        *,
        status: RfqStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Rfq]:
        query = {"status": status and status.value, "updated-since": updated_since}
        return await self._list("list_rfqs", "/rfqs", query, parse_rfq, limit, skip)

    async def get_rfq(self, rfq_id: str) -> Rfq:
        raw = await self._read(Lane.POLL, "get_rfq", f"/rfqs/{path_segment(rfq_id)}")
        return self._parsed("get_rfq", parse_rfq, raw)

    async def get_load_shape(self, rfq_id: str) -> LoadShape:
        # Only a quote needs a shape, so the read takes the SUBMIT lane.
        path = f"/rfqs/{path_segment(rfq_id)}/load-shape"
        raw = await self._read(Lane.SUBMIT, "get_load_shape", path)
        return self._parsed("get_load_shape", parse_load_shape, raw)

    async def submit_quote(self, request: QuoteRequest) -> Quote:
        path = f"/rfqs/{path_segment(request.rfq_id)}/quotes"
        body = json_bytes(quote_body(request))

        async def attempt() -> Answer:
            return await self._session.call(
                Lane.SUBMIT, "submit_quote", "POST", path, body=body, ok=(200, 201)
            )

        try:
            answer = await submitted(
                attempt,
                client_quote_id=request.client_quote_id,
                retries=self._config.submit_retries,
                backoff=self._backoff,
                clock=self._clock,
                rng=self._rng,
                on_retry=self._on_retry("submit_quote"),
            )
        except SubmitOutcomeUnknown as lost:
            self._unknown(lost)
            raise
        try:
            quote = self._parsed(
                "submit_quote", parse_quote, self._session.json(answer, "submit_quote")
            )
            if (quote.client_quote_id, quote.rfq_id) != (request.client_quote_id, request.rfq_id):
                self._stats.malformed_responses["submit_quote"] += 1
                raise MalformedResponse(
                    f"client-quote-id: the answer is quote {quote.client_quote_id} of RFQ "
                    f"{quote.rfq_id}, not ours",
                    endpoint="submit_quote",
                    field="client-quote-id",
                )
        except MalformedResponse as error:
            # A 2xx: the venue took the request, so the quote may well be live. Fail safe.
            unknown = SubmitOutcomeUnknown(
                f"submit_quote: quote {request.client_quote_id} answered {answer.status}, its "
                f"body refused ({error.problem}); read our quotes before quoting this RFQ again",
                client_quote_id=request.client_quote_id,
                bad_answer=error,
            )
            self._unknown(unknown)
            raise unknown from error
        if answer.status == 200:
            log.info("quote %s was already stored; the venue returned it", quote.client_quote_id)
        return quote

    def _unknown(self, unknown: SubmitOutcomeUnknown) -> None:
        self._stats.submit_outcome_unknown += 1
        log.error("%s", unknown)

    def _parsed(self, endpoint: str, parse: Callable[[object], T], raw: object) -> T:
        """`raw` parsed; an answer refused whole is counted and said of `endpoint`."""
        try:
            return parse(raw)
        except MalformedResponse as error:
            self._stats.malformed_responses[endpoint] += 1
            raise error.at(endpoint) from None

    async def withdraw_quote(self, rfq_id: str, quote_id: str) -> None:
        path = f"/rfqs/{path_segment(rfq_id)}/quotes/{path_segment(quote_id)}"
        await self._retrying(
            "withdraw_quote",
            lambda: self._session.call(
                Lane.WITHDRAW, "withdraw_quote", "DELETE", path, ok=(200, 204)
            ),
        )

    async def list_quotes(
        self,
        *,
        status: QuoteStatus | None = None,
        updated_since: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
        for_withdrawal: bool = False,
    ) -> Page[Quote]:
        query = {"status": status and status.value, "updated-since": updated_since}
        lane = Lane.WITHDRAW if for_withdrawal else Lane.POLL
        return await self._list("list_quotes", "/quotes", query, parse_quote, limit, skip, lane)

    async def list_trades(
        self,
        *,
        traded_from: datetime | None = None,
        traded_to: datetime | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> Page[Trade]:
        query = {"traded-at": traded_at_range(traded_from, traded_to, self._clock.now())}
        return await self._list("list_trades", "/trades", query, parse_trade, limit, skip)

    # -- reading -----------------------------------------------------------------------------

    async def _list(
        self,
        endpoint: str,
        path: str,
        query: Mapping[str, QueryValue],
        parse_item: Callable[[object], T],
        limit: int,
        skip: int,
        lane: Lane = Lane.POLL,
    ) -> Page[T]:
        if not 1 <= limit <= self._config.max_page_items or skip < 0:
            raise ValueError(f"limit must be 1..{self._config.max_page_items}, skip >= 0")
        raw = await self._read(lane, endpoint, path, {**query, "limit": limit, "skip": skip})
        page = self._parsed(
            endpoint,
            lambda body: parse_page(body, parse_item, max_items=limit, limit=limit, skip=skip),
            raw,
        )
        if page.rejected:
            self._stats.malformed_items[endpoint] += len(page.rejected)
            for item in page.rejected:
                log.warning(
                    "%s: item %d (%s) set aside: %s",
                    endpoint,
                    item.index,
                    item.item_id,
                    item.reason,
                )
        return page

    async def _read(
        self, lane: Lane, endpoint: str, path: str, query: Mapping[str, QueryValue] | None = None
    ) -> object:
        answer = await self._retrying(
            endpoint, lambda: self._session.call(lane, endpoint, "GET", path, query=query)
        )
        return self._session.json(answer, endpoint)

    async def _retrying(self, endpoint: str, call: Callable[[], Awaitable[Answer]]) -> Answer:
        return await retried(
            call,
            retries=self._config.read_retries,
            backoff=self._backoff,
            clock=self._clock,
            rng=self._rng,
            on_retry=self._on_retry(endpoint),
        )

    def _on_retry(self, endpoint: str) -> Callable[[RetrySafe], None]:
        def count(error: RetrySafe) -> None:
            self._stats.retries[endpoint] += 1
            log.warning("%s: retrying after %s", endpoint, error)

        return count
