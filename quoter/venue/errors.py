"""The venue client's errors: every transport, HTTP, JSON and validation failure becomes one of these.

    VenueError
    ├── RetrySafe                      the same call may be made again later
    │   ├── VenueUnavailable           connection failure, timeout, 5xx, gateway 504
    │   └── RateLimited                429 Too Many Requests (the venue's bucket is empty)
    └── Final                          repeating the same call will fail the same way
        ├── QuotaExhausted             429 Limit Exceeded, or our own ledger says the day is spent
        ├── GuardRefused               our usage-plan guard keeps the capacity for a higher lane
        ├── AuthenticationFailed       403 (API key) or 401 after one re-authentication
        ├── NotFound                   404
        ├── RfqNotOpen                 409 RFQ_NOT_OPEN
        ├── QuoteNotActive             409 QUOTE_NOT_ACTIVE
        ├── QuoteRejected              422 INVALID_QUOTE (or any other 4xx the contract does not name)
        ├── MalformedResponse          the body is not the JSON the contract promises: says the
        │                              endpoint and the field (none: the body as a whole)
        └── SubmitOutcomeUnknown       a quote submit whose answer never came, retries spent, or
                                       came unreadable: it may be live; resolve it by reading our
                                       quotes, never resend blind

Messages never carry the API key, the client secret or a token.
"""

from __future__ import annotations


class VenueError(Exception):
    """Base of every error the venue client raises."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RetrySafe(VenueError):
    """The call did not take effect, or is idempotent: it may be made again after a pause."""


class Final(VenueError):
    """Repeating the same call will not help."""


class VenueUnavailable(RetrySafe):
    pass


class RateLimited(RetrySafe):
    pass


class QuotaExhausted(Final):
    pass


class GuardRefused(Final):
    pass


class AuthenticationFailed(Final):
    pass


class NotFound(Final):
    pass


class RfqNotOpen(Final):
    pass


class QuoteNotActive(Final):
    pass


class QuoteRejected(Final):
    pass


class MalformedResponse(Final):
    """An answer that is not what the contract promises, said as `endpoint: field: problem`.
    The parsers know the field, not the call: the client names the endpoint (`at`)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        said = message if endpoint is None else f"{endpoint}: {message}"
        super().__init__(said, status=status, code=code)
        self.problem = message
        self.endpoint = endpoint
        self.field = field

    def at(self, endpoint: str) -> MalformedResponse:
        """This error, said of `endpoint` (one that names an endpoint already is kept)."""
        if self.endpoint is not None:
            return self
        return MalformedResponse(
            self.problem, endpoint=endpoint, field=self.field, status=self.status, code=self.code
        )


class SubmitOutcomeUnknown(Final):
    """`bad_answer`: the 2xx answer that could not be read, when that is why it is unknown."""

    def __init__(
        self, message: str, *, client_quote_id: str, bad_answer: MalformedResponse | None = None
    ) -> None:
        super().__init__(message)
        self.client_quote_id = client_quote_id
        self.bad_answer = bad_answer


def is_limit_exceeded(message: str) -> bool:
    """A 429 whose message says the day's quota is spent, not that the bucket is empty."""
    return "limit exceeded" in message.lower()


def venue_error(status: int, code: str | None, message: str, endpoint: str) -> VenueError:
    """The port's exception for a venue's error answer: one mapping for every transport (the
    HTTP client and the replay's simulated venue), so a venue answer means the same to the
    engine whichever carries it. 401 reaches here only after the one re-authentication."""
    said = (
        f"{status}" + (f" {code}" if code else "") + (f" {message}" if message else "")
    ).rstrip()
    detail = f"{endpoint}: {said}"
    kind: type[VenueError]
    if status == 429:
        kind = QuotaExhausted if is_limit_exceeded(message) else RateLimited
    elif status >= 500:
        kind = VenueUnavailable
    elif status in (401, 403):
        kind = AuthenticationFailed
    elif status == 404:
        kind = NotFound
    elif status == 409 and code == "RFQ_NOT_OPEN":
        kind = RfqNotOpen
    elif status == 409 and code == "QUOTE_NOT_ACTIVE":
        kind = QuoteNotActive
    elif 400 <= status < 500:
        kind = QuoteRejected
    else:  # a status the contract does not name (a redirect): the answer is not the contract's
        return MalformedResponse(said, endpoint=endpoint, status=status, code=code)
    return kind(detail, status=status, code=code)
