"""Access tokens: what an /authenticate answer means, and when a token must be renewed.

A token is reused all day. It expires at its `expires-at` if the venue gives one, otherwise at
midnight Europe/Berlin of the day it was issued (the venue's published rule). An `expires-at`
already past when the answer came (a venue clock behind ours, a bad answer) is a bad answer:
the published rule stands in for it, and the venue's 401 says if the token ends sooner. The
token's text never appears in a repr, a message or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from quoter.venue.errors import MalformedResponse

BERLIN = ZoneInfo("Europe/Berlin")

# JWTs run to a few hundred bytes; anything past this is not a token.
MAX_TOKEN_CHARS = 8192

TokenText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_CHARS)]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and the instant it stops working."""

    value: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    # Why the venue's expires-at was not taken (it had passed when the answer came), or None.
    expiry_refused: str | None = None

    def __str__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at.isoformat()})"

    def header(self) -> str:
        return f"Bearer {self.value}"

    def needs_renewal(self, now: datetime, margin_s: float) -> bool:
        """Due `margin_s` before its expiry; a token that came already inside that margin (the
        last minute of a Berlin day, when no token lasts longer) is used until it expires, as
        renewing it sooner would only fetch another as short."""
        renew_at = self.expires_at - timedelta(seconds=margin_s)
        return now >= (renew_at if renew_at > self.issued_at else self.expires_at)


class _AuthAnswer(BaseModel):
    """The /authenticate body: either spelling of the token field; type and expiry optional."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dashed: TokenText | None = Field(None, alias="access-token")
    underscored: TokenText | None = Field(None, alias="access_token")
    token_type: str | None = Field(None, alias="token-type")
    token_type_underscored: str | None = Field(None, alias="token_type")
    expires_at: AwareDatetime | None = Field(None, alias="expires-at")
    expires_at_underscored: AwareDatetime | None = Field(None, alias="expires_at")


def berlin_midnight_after(instant: datetime) -> datetime:
    """Midnight Europe/Berlin ending the Berlin day that contains `instant`, in UTC."""
    local_day = instant.astimezone(BERLIN).date()
    next_midnight = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=BERLIN)
    return next_midnight.astimezone(UTC)


def parse_token(body: object, issued_at: datetime) -> AccessToken:
    """The token in an /authenticate answer; MalformedResponse (naming the field) if none."""
    try:
        answer = _AuthAnswer.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        # The message names the field only: the input may be the token itself.
        raise MalformedResponse(
            f"{where}: {first['type']}", endpoint="authenticate", field=where
        ) from None
    value = answer.dashed or answer.underscored
    if value is None:
        raise MalformedResponse(
            "access-token: missing", endpoint="authenticate", field="access-token"
        )
    token_type = answer.token_type or answer.token_type_underscored
    if token_type is not None and token_type.lower() != "bearer":
        raise MalformedResponse(
            f"token-type: {token_type[:20]!r}, not Bearer",
            endpoint="authenticate",
            field="token-type",
        )
    expires = answer.expires_at or answer.expires_at_underscored
    if expires is None:
        return AccessToken(value, issued_at, berlin_midnight_after(issued_at))
    if expires <= issued_at:
        refused = (
            f"authenticate answer's expires-at {expires.astimezone(UTC).isoformat()} had "
            f"passed when it came ({issued_at.astimezone(UTC).isoformat()} by our clock)"
        )
        return AccessToken(value, issued_at, berlin_midnight_after(issued_at), refused)
    return AccessToken(value, issued_at, expires.astimezone(UTC))


def auth_body(client_id: str, client_secret: str) -> dict[str, str]:
    """The body we send (the observed spelling; the venue also takes kebab-case)."""
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
