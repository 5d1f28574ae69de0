"""The public API of the contract, behind the gateway: authenticate, RFQs, load shapes, quotes
and trades, under each version prefix. Lists without `updated-since` are newest update first."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from aiohttp import web

from quoter.domain import Commodity, Load, QuoteStatus, RfqStatus, Trade
from quoter.domain.market import AREAS
from quoter.sandbox import jsonfields as fields
from quoter.sandbox import params
from quoter.sandbox.core import SANDBOX, Sandbox
from quoter.sandbox.errors import (
    ApiError,
    gateway_response,
    invalid_quote,
    json_response,
    not_found,
)
from quoter.sandbox.faults import FaultKind, malform
from quoter.sandbox.gateway import NOW, VERSION
from quoter.sandbox.quoting import find_rfq, submit, withdraw
from quoter.sandbox.records import SimRfq
from quoter.sandbox.shapes import load_shape_json
from quoter.sandbox.store import updated_since
from quoter.sandbox.wire import Json, iso, page_json, quote_json, rfq_json, trade_json

T = TypeVar("T")
ALL_AREAS = frozenset().union(*AREAS.values())
PREFIX = r"/{version:v2\.[012]}"
RFQ_PARAMS = ("status", "updated-since", "commodity", "market-area", "limit", "skip")
QUOTE_PARAMS = ("status", "updated-since", "limit", "skip")
TRADE_PARAMS = ("commodity", "venue", "traded-at", "limit", "skip")


def _context(request: web.Request) -> tuple[Sandbox, str, datetime]:
    return request.app[SANDBOX], "/" + request.match_info[VERSION], request[NOW]


async def _json_body(request: web.Request) -> object:
    try:
        return fields.parse_body(await request.read())
    except fields.FieldError as error:
        raise ApiError(400, "INVALID_JSON", str(error)) from None


def _credential(body: dict[str, object], snake: str, kebab: str) -> str | None:
    value = body.get(snake, body.get(kebab))
    return value if isinstance(value, str) else None


async def authenticate(request: web.Request) -> web.Response:
    sandbox, _, now = _context(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
        raise ApiError(400, "UNSUPPORTED_GRANT_TYPE", "grant_type must be client_credentials")
    client_id = _credential(body, "client_id", "client-id")
    secret = _credential(body, "client_secret", "client-secret")
    expected = sandbox.credentials
    if (
        client_id is None
        or secret is None
        or not hmac.compare_digest(
            client_id.encode(), expected.client_id.get_secret_value().encode()
        )
        or not hmac.compare_digest(
            secret.encode(), expected.client_secret.get_secret_value().encode()
        )
    ):
        return gateway_response(401, "Unauthorized")
    token, expires_at = sandbox.tokens.issue(client_id, now)
    sandbox.counters.authentications += 1
    skewed = sandbox.faults.take(
        frozenset({FaultKind.TOKEN_EXPIRY}), request.method, request.path_qs
    )
    if skewed is not None:  # the answer lies; the token still verifies until its real expiry
        expires_at = now + timedelta(seconds=skewed.expires_in_s)
    return json_response(
        {"access-token": token, "token-type": "Bearer", "expires-at": iso(expires_at)}
    )


def _rfq_filter(query: params.Query) -> Callable[[SimRfq], bool]:
    status = params.optional_enum(query, "status", RfqStatus)
    commodity = params.optional_enum(query, "commodity", Commodity)
    area = params.optional_choice(query, "market-area", ALL_AREAS)

    def keep(sim: SimRfq) -> bool:
        rfq = sim.rfq
        return (
            (status is None or rfq.status is status)
            and (commodity is None or rfq.instrument.commodity is commodity)
            and (area is None or rfq.instrument.market_area == area)
        )

    return keep


async def list_rfqs(request: web.Request) -> web.Response:
    sandbox, prefix, now = _context(request)
    query = request.query
    params.check_known(query, RFQ_PARAMS)
    keep = _rfq_filter(query)
    since = params.optional_instant(query, "updated-since")
    paging = params.paging(query)
    rows = updated_since(
        (s for s in sandbox.store.rfqs.values() if keep(s)), since, lambda s: s.rfq.updated_at
    )
    page = _paged(rows, paging, lambda s: rfq_json(s, prefix))
    fault = sandbox.faults.take(
        frozenset({FaultKind.MALFORMED_RFQ}), request.method, request.path_qs
    )
    if fault is not None:
        _add_malformed(sandbox, page, prefix, now)
    return json_response(page)


def _add_malformed(sandbox: Sandbox, page: Json, prefix: str, now: datetime) -> None:
    """One broken RFQ among the valid ones; on a full page it takes the last item's place."""
    items, total, limit = page["items"], page["total"], page["limit"]
    if not isinstance(items, list) or not isinstance(total, int) or not isinstance(limit, int):
        raise TypeError("a page has a list of items and integer counts")
    variant = sandbox.faults.injected[FaultKind.MALFORMED_RFQ.value] - 1
    broken = malform(rfq_json(sandbox.market.sample(now), prefix), variant)
    if len(items) >= limit:
        items.pop()
    items.insert(variant % (len(items) + 1), broken)
    page["total"] = total + 1


async def get_rfq(request: web.Request) -> web.Response:
    sandbox, prefix, _ = _context(request)
    return json_response(rfq_json(find_rfq(sandbox.store, request.match_info["rfq_id"]), prefix))


async def get_load_shape(request: web.Request) -> web.Response:
    sandbox, _, _ = _context(request)
    sim = find_rfq(sandbox.store, request.match_info["rfq_id"])
    if sim.shape is None or sim.rfq.instrument.load is not Load.CUSTOM:
        raise not_found(f"RFQ {sim.id} has no load shape")
    return json_response(load_shape_json(sim.shape, sim.rfq.instrument, sim.rfq.quantity_mw))


async def post_quote(request: web.Request) -> web.Response:
    sandbox, prefix, now = _context(request)
    rfq_id = request.match_info["rfq_id"]
    body = await _json_body(request)
    if sandbox.faults.take(frozenset({FaultKind.INVALID_QUOTE}), request.method, request.path_qs):
        raise invalid_quote("refused by a sandbox fault")
    late = sandbox.faults.take(
        frozenset({FaultKind.QUOTE_504_LATE}), request.method, request.path_qs
    )
    if late is not None:  # the request timed out at the gateway; the API stores it later
        sandbox.faults.store_later(late, rfq_id, body, now)
        return gateway_response(504, "Endpoint request timed out")
    quote, created = submit(sandbox.store, sandbox.quote_ids, rfq_id, body, now)
    if created:
        fault = sandbox.faults.take(
            frozenset({FaultKind.QUOTE_504}), request.method, request.path_qs
        )
        if fault is not None:
            return gateway_response(504, "Endpoint request timed out")
    answer = quote_json(quote, prefix)
    if sandbox.faults.take(frozenset({FaultKind.MALFORMED_QUOTE}), request.method, request.path_qs):
        del answer["valid-until"]  # stored all the same: only the answer is broken
    return json_response(answer, 201 if created else 200)


async def delete_quote(request: web.Request) -> web.Response:
    sandbox, _, now = _context(request)
    withdraw(sandbox.store, request.match_info["rfq_id"], request.match_info["quote_id"], now)
    return web.Response(status=204)


async def list_quotes(request: web.Request) -> web.Response:
    sandbox, prefix, _ = _context(request)
    query = request.query
    params.check_known(query, QUOTE_PARAMS)
    status = params.optional_enum(query, "status", QuoteStatus)
    since = params.optional_instant(query, "updated-since")
    paging = params.paging(query)
    quotes = (q for q in sandbox.store.quotes.values() if status is None or q.status is status)
    rows = updated_since(quotes, since, lambda q: q.updated_at)
    return json_response(_paged(rows, paging, lambda q: quote_json(q, prefix)))


async def list_trades(request: web.Request) -> web.Response:
    sandbox, prefix, _ = _context(request)
    query = request.query
    params.check_known(query, TRADE_PARAMS)
    commodity = params.optional_enum(query, "commodity", Commodity)
    venue = query.get("venue")
    window = params.time_range(query, "traded-at")
    paging = params.paging(query)
    trades = [
        t
        for t in sandbox.store.trades.values()
        if (commodity is None or t.instrument.commodity is commodity)
        and (venue is None or t.venue == venue)
        and (window is None or window[0] <= t.traded_at < window[1])
    ]
    trades.sort(key=lambda t: t.traded_at, reverse=True)
    return json_response(_paged(trades, paging, lambda t: _trade_json(t, prefix)))


def _trade_json(trade: Trade, prefix: str) -> Json:
    custom = trade.instrument.load is Load.CUSTOM
    return trade_json(trade, prefix, f"/rfqs/{trade.rfq_id}/load-shape" if custom else None)


def _paged(rows: Sequence[T], paging: params.Paging, render: Callable[[T], Json]) -> Json:
    chosen = rows[paging.skip : paging.skip + paging.limit]
    return page_json([render(r) for r in chosen], len(rows), paging.limit, paging.skip)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX + "/authenticate", authenticate)
    app.router.add_get(PREFIX + "/rfqs", list_rfqs)
    app.router.add_get(PREFIX + "/rfqs/{rfq_id}", get_rfq)
    app.router.add_get(PREFIX + "/rfqs/{rfq_id}/load-shape", get_load_shape)
    app.router.add_post(PREFIX + "/rfqs/{rfq_id}/quotes", post_quote)
    app.router.add_delete(PREFIX + "/rfqs/{rfq_id}/quotes/{quote_id}", delete_quote)
    app.router.add_get(PREFIX + "/quotes", list_quotes)
    app.router.add_get(PREFIX + "/trades", list_trades)
