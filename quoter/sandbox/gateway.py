"""The gateway in front of the public API: API key (403), usage plan (429), queued faults,
bearer token (401), and the translation of errors into the contract's two bodies.

Every public request is counted; the controls under `/_sandbox/` pass straight through.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from quoter.sandbox.core import SANDBOX, Sandbox
from quoter.sandbox.errors import ApiError, api_error_response, gateway_response
from quoter.sandbox.faults import GATEWAY_MESSAGES, FaultKind
from quoter.sandbox.plan import Verdict

CONTROL_PREFIX = "/_sandbox/"
VERSION = "version"
NOW = web.RequestKey("now", datetime)
AUTHENTICATE_ROUTE = "/{version}/authenticate"
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
EARLY_FAULTS = frozenset({FaultKind.STATUS, FaultKind.RATE_LIMIT})
HTTP_ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def route_of(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return None if resource is None else resource.canonical


def route_label(request: web.Request) -> str:
    """`GET /rfqs/{rfq_id}`: bounded, never an id."""
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    route = route_of(request)
    path = "(unmatched)" if route is None else route.removeprefix("/{version}")
    return f"{method} {path}"


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    sandbox = request.app[SANDBOX]
    sandbox.counters.arrive(sandbox.clock.monotonic())
    response = await _serve(sandbox, request, handler)
    sandbox.counters.answered(route_label(request), response.status)
    return response


def _plan_refusal(sandbox: Sandbox) -> web.Response | None:
    now_s = sandbox.clock.monotonic()
    verdict = sandbox.plan.admit(now_s, sandbox.now())
    if verdict is Verdict.LIMIT_EXCEEDED:
        sandbox.counters.quota_exceeded += 1
        return gateway_response(429, verdict.value)
    if verdict is Verdict.TOO_MANY_REQUESTS:
        sandbox.counters.rate_limited += 1
        wait_s = sandbox.plan.bucket.retry_after_s(now_s)
        return gateway_response(429, verdict.value, retry_after=str(wait_s))
    return None


async def _serve(sandbox: Sandbox, request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get("x-api-key")
    expected = sandbox.credentials.api_key.get_secret_value()
    if key is None or not hmac.compare_digest(key.encode(), expected.encode()):
        sandbox.counters.forbidden += 1
        return gateway_response(403, "Forbidden")
    refusal = _plan_refusal(sandbox)
    if refusal is not None:
        return refusal
    method, path = request.method, request.path_qs  # a fault may name a query: skip=100
    latency = sandbox.faults.take(frozenset({FaultKind.LATENCY}), method, path)
    if latency is not None:
        await sandbox.sleep(latency.latency_s)
    early = sandbox.faults.take(EARLY_FAULTS, method, path)
    if early is not None:
        if early.kind is FaultKind.RATE_LIMIT:
            sandbox.counters.rate_limited += 1
            return gateway_response(429, Verdict.TOO_MANY_REQUESTS.value, early.retry_after)
        return gateway_response(early.status, GATEWAY_MESSAGES[early.status])
    response = await _behind_gateway(sandbox, request, handler)
    if sandbox.faults.take(frozenset({FaultKind.INVALID_JSON}), method, path) is not None:
        return _garbled(response)
    return response


async def _behind_gateway(
    sandbox: Sandbox, request: web.Request, handler: Handler
) -> web.StreamResponse:
    http_error = request.match_info.http_exception
    if http_error is not None:
        return _http_error_response(http_error)
    now = sandbox.step()
    request[NOW] = now
    if route_of(request) != AUTHENTICATE_ROUTE and not sandbox.tokens.verify(
        request.headers.get("Authorization"), now
    ):
        return gateway_response(401, "Unauthorized")
    try:
        return await handler(request)
    except ApiError as error:
        return api_error_response(error)
    except web.HTTPException as error:
        return _http_error_response(error)


def _http_error_response(error: web.HTTPException) -> web.Response:
    code = HTTP_ERROR_CODES.get(error.status, "BAD_REQUEST")
    return api_error_response(ApiError(error.status, code, error.reason))


def _garbled(response: web.StreamResponse) -> web.Response:
    """The same status, a body that is not JSON: cut a JSON body short, or send an HTML page."""
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes) and len(body) > 2:
        text = body[: len(body) // 2]
    else:
        text = b"<html><body>upstream error</body></html>"
    status = response.status if response.status != 204 else 200
    return web.Response(body=text, status=status, content_type="application/json")
