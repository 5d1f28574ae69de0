"""Controls under `/_sandbox/`: not part of the venue, no key, no token, not counted.

    POST   /_sandbox/rfqs      overrides (see overrides.py)       -> 201 the RFQ as the API shows it
    GET    /_sandbox/clock                                        -> {"now": ISO}
    POST   /_sandbox/clock     {"advance-s": N}                   -> {"now": ISO} (market stepped)
    GET    /_sandbox/faults                                       -> {"pending": [...]}
    POST   /_sandbox/faults    {"kind", "count", "path", "method", "status", "latency-s",
                                "store-after-s", "retry-after" (rate-limit: the header),
                                "expires-in-s" (token-expiry: the answer's expires-at)}
                                                                  -> 201 {"fault": ..., "pending": [...]}
                               kind revoke-tokens acts at once    -> 200 {"revoked-tokens": n}
    DELETE /_sandbox/faults                                       -> 204
    GET    /_sandbox/counters                                     -> counters (see `counters_json`)
    GET    /_sandbox/plan | POST {"rate-per-s", "burst", "daily-quota"} -> the plan
Bad bodies: 400 {"error": {"code": "INVALID_CONTROL", "message": ...}}.
"""

from __future__ import annotations

import math

from aiohttp import web

from quoter.sandbox import jsonfields as fields
from quoter.sandbox.core import SANDBOX, Sandbox
from quoter.sandbox.counters import max_in_window
from quoter.sandbox.errors import ApiError, api_error_response, json_response
from quoter.sandbox.faults import FaultKind, parse_fault
from quoter.sandbox.market import StoreFull
from quoter.sandbox.overrides import parse_rfq_overrides
from quoter.sandbox.wire import Json, iso, rfq_json

CONTROL_ROOT = "/_sandbox"
CONTROL_PREFIX_FOR_LINKS = "/v2.2"
MAX_ADVANCE_S = 400 * 86400.0


def _invalid(message: str) -> web.Response:
    return api_error_response(ApiError(400, "INVALID_CONTROL", message))


async def _body(request: web.Request) -> object:
    return fields.parse_body(await request.read())


async def create_rfq(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    now = sandbox.step()
    try:
        spec = parse_rfq_overrides(await _body(request), now)
        sim = sandbox.market.create(spec, now)
    except StoreFull as error:
        return api_error_response(ApiError(503, "SANDBOX_FULL", str(error)))
    except ValueError as error:  # FieldError, and the domain's own checks
        return _invalid(str(error))
    return json_response(rfq_json(sim, CONTROL_PREFIX_FOR_LINKS), 201)


async def get_clock(request: web.Request) -> web.Response:
    return json_response({"now": iso(request.app[SANDBOX].step())})


async def advance_clock(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        body = fields.obj(await _body(request), "the body", {"advance-s"})
        seconds = fields.number(body.get("advance-s"), "advance-s")
    except fields.FieldError as error:
        return _invalid(str(error))
    if not 0 <= seconds <= MAX_ADVANCE_S:
        return _invalid(f"advance-s must be within [0, {MAX_ADVANCE_S:g}]")
    sandbox.clock.advance(seconds)
    return json_response({"now": iso(sandbox.step())})


async def get_faults(request: web.Request) -> web.Response:
    return json_response({"pending": request.app[SANDBOX].faults.pending()})


async def add_fault(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        fault = parse_fault(await _body(request))
        if fault.kind is FaultKind.REVOKE_TOKENS:
            sandbox.tokens.revoke_all()
            return json_response({"revoked-tokens": sandbox.tokens.issued})
        sandbox.faults.add(fault)
    except ValueError as error:
        return _invalid(str(error))
    return json_response({"fault": fault.as_json(), "pending": sandbox.faults.pending()}, 201)


async def clear_faults(request: web.Request) -> web.Response:
    request.app[SANDBOX].faults.clear()
    return web.Response(status=204)


def counters_json(sandbox: Sandbox) -> Json:
    counters, store = sandbox.counters, sandbox.store
    times = list(counters.request_times)
    return {
        "requests": counters.requests,
        "by-status": dict(counters.by_status),
        "by-route": dict(counters.by_route),
        "rate-limited": counters.rate_limited,
        "quota-exceeded": counters.quota_exceeded,
        "forbidden": counters.forbidden,
        "quota-spent": {sandbox.key_label: sandbox.plan.spent_today(sandbox.now())},
        "authentications": counters.authentications,
        "quotes-created": store.quotes_created,
        "live-quotes": store.live_quotes(),
        "duplicate-live": store.watch.duplicate_live,
        "max-live-quotes-per-rfq": store.watch.max_per_rfq,
        "max-requests-in-1s-window": max_in_window(times, 1.0),
        "request-times": times,
        "faults-injected": dict(sandbox.faults.injected),
        "rfqs-stored": len(store.rfqs),
        "arrivals-dropped": sandbox.market.dropped,
    }


async def get_counters(request: web.Request) -> web.Response:
    return json_response(counters_json(request.app[SANDBOX]))


def _plan_json(sandbox: Sandbox) -> Json:
    plan = sandbox.plan
    return {
        "rate-per-s": plan.bucket.rate_per_s,
        "burst": plan.bucket.burst,
        "daily-quota": plan.quota.limit,
        "tokens": plan.bucket.tokens(sandbox.clock.monotonic()),
        "quota-spent": plan.spent_today(sandbox.now()),
    }


async def get_plan(request: web.Request) -> web.Response:
    return json_response(_plan_json(request.app[SANDBOX]))


async def change_plan(request: web.Request) -> web.Response:
    """New limits; the bucket starts full, the day's spent count is kept."""
    sandbox = request.app[SANDBOX]
    plan = sandbox.plan
    try:
        body = fields.obj(await _body(request), "the plan", {"rate-per-s", "burst", "daily-quota"})
        rate = fields.number(body.get("rate-per-s", plan.bucket.rate_per_s), "rate-per-s")
        burst = fields.integer(body.get("burst", plan.bucket.burst), "burst", 1, 1_000_000)
        quota = fields.integer(body.get("daily-quota", plan.quota.limit), "daily-quota", 1, 10**9)
    except fields.FieldError as error:
        return _invalid(str(error))
    if not 0 < rate < math.inf:
        return _invalid("rate-per-s must be positive")
    plan.change(sandbox.clock.monotonic(), rate, burst, quota)
    return json_response(_plan_json(sandbox))


def add_routes(app: web.Application) -> None:
    app.router.add_post(CONTROL_ROOT + "/rfqs", create_rfq)
    app.router.add_get(CONTROL_ROOT + "/clock", get_clock)
    app.router.add_post(CONTROL_ROOT + "/clock", advance_clock)
    app.router.add_get(CONTROL_ROOT + "/faults", get_faults)
    app.router.add_post(CONTROL_ROOT + "/faults", add_fault)
    app.router.add_delete(CONTROL_ROOT + "/faults", clear_faults)
    app.router.add_get(CONTROL_ROOT + "/counters", get_counters)
    app.router.add_get(CONTROL_ROOT + "/plan", get_plan)
    app.router.add_post(CONTROL_ROOT + "/plan", change_plan)
