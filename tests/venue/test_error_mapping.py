"""Every error the venue contract names (docs/venue-contract.md) maps to the port's exception, by
one mapping: the HTTP transport and the replay's simulated venue raise the same exception, with
the same message, status and code, for the same venue answer."""

from __future__ import annotations

import pytest

from quoter.backtest.simvenue import _translated
from quoter.sandbox.errors import ApiError, api_error_response, gateway_response
from quoter.venue import errors
from quoter.venue.errors import venue_error
from quoter.venue.transport import Answer, Redactor, error_for

# (status, code, message) as the venue sends them -> the port's exception.
CONTRACT: list[tuple[int, str | None, str, type[errors.VenueError]]] = [
    (401, None, "Unauthorized", errors.AuthenticationFailed),
    (403, None, "Forbidden", errors.AuthenticationFailed),
    (404, "NOT_FOUND", "no rfq r-1", errors.NotFound),
    (409, "RFQ_NOT_OPEN", "rfq r-1 is closed", errors.RfqNotOpen),
    (409, "QUOTE_NOT_ACTIVE", "quote q-1 is withdrawn", errors.QuoteNotActive),
    (409, "SOMETHING_NEW", "a conflict the contract does not name", errors.QuoteRejected),
    (422, "INVALID_QUOTE", "price has more than 3 decimals", errors.QuoteRejected),
    (400, "INVALID_PARAMETER", "limit must be 1..100", errors.QuoteRejected),
    (429, None, "Too Many Requests", errors.RateLimited),
    (429, None, "Limit Exceeded", errors.QuotaExhausted),
    (500, "INTERNAL", "boom", errors.VenueUnavailable),
    (503, "SANDBOX_FULL", "full", errors.VenueUnavailable),
    (504, None, "Endpoint request timed out", errors.VenueUnavailable),
    (418, "TEAPOT", "an unknown 4xx", errors.QuoteRejected),
    (302, None, "a status no error has", errors.MalformedResponse),
]


@pytest.mark.parametrize(("status", "code", "message", "kind"), CONTRACT)
def test_every_contract_error_maps_to_its_exception(
    status: int, code: str | None, message: str, kind: type[errors.VenueError]
) -> None:
    error = venue_error(status, code, message, "get_rfq")
    assert type(error) is kind
    assert (error.status, error.code) == (status, code)
    assert str(error) == f"get_rfq: {status}" + (f" {code}" if code else "") + f" {message}"


def test_an_empty_message_leaves_no_trailing_space() -> None:
    assert str(venue_error(504, None, "", "list_rfqs")) == "list_rfqs: 504"


def _http(status: int, code: str | None, message: str, endpoint: str) -> errors.VenueError:
    """What the HTTP transport raises for the body the sandbox's boundary serves."""
    response = (
        gateway_response(status, message)
        if code is None
        else api_error_response(ApiError(status, code, message))
    )
    assert isinstance(response.body, bytes)
    return error_for(Answer(status, response.body), endpoint, Redactor(()))


def _sim(status: int, code: str, message: str, endpoint: str) -> errors.VenueError:
    """What the simulated venue raises when the sandbox's core refuses the call."""
    return _translated(ApiError(status, code, message), endpoint)


@pytest.mark.parametrize(("status", "code", "message", "kind"), CONTRACT)
def test_the_http_transport_maps_each_answer_by_the_one_mapping(
    status: int, code: str | None, message: str, kind: type[errors.VenueError]
) -> None:
    error = _http(status, code, message, "submit_quote")
    expected = venue_error(status, code, message, "submit_quote")
    assert (type(error), str(error), error.status, error.code) == (
        kind,
        str(expected),
        status,
        code,
    )


@pytest.mark.parametrize(
    ("status", "code", "message", "kind"), [c for c in CONTRACT if c[1] is not None]
)
def test_the_simulated_venue_maps_alike(
    status: int, code: str, message: str, kind: type[errors.VenueError]
) -> None:
    sim, http = (
        _sim(status, code, message, "withdraw_quote"),
        _http(status, code, message, "withdraw_quote"),
    )
    assert (type(sim), str(sim), sim.status, sim.code) == (
        type(http),
        str(http),
        http.status,
        http.code,
    )
    assert type(sim) is kind


def test_a_secret_in_the_venue_message_is_blanked() -> None:
    body = api_error_response(ApiError(422, "INVALID_QUOTE", "bad key s3cret")).body
    assert isinstance(body, bytes)
    error = error_for(Answer(422, body), "submit_quote", Redactor(["s3cret"]))
    assert "s3cret" not in str(error)
    assert str(error) == "submit_quote: 422 INVALID_QUOTE bad key ***"
