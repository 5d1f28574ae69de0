"""The two error shapes of the contract, and JSON responses: the gateway's `{"message": ...}`
and the API's `{"error": {"code", "message"}}`."""

from __future__ import annotations

import orjson
from aiohttp import web

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An error the API itself raises; the boundary turns it into its JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class GatewayError(Exception):
    """An error the gateway raises before the API sees the request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_parameter(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def invalid_quote(message: str) -> ApiError:
    return ApiError(422, "INVALID_QUOTE", message)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type=JSON_TYPE, charset="utf-8"
    )


def api_error_response(error: ApiError) -> web.Response:
    return json_response({"error": {"code": error.code, "message": error.message}}, error.status)


def gateway_response(status: int, message: str, retry_after: str | None = None) -> web.Response:
    response = json_response({"message": message}, status)
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response
