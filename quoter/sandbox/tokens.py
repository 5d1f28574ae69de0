"""Access tokens: HS256 JWTs signed with a secret drawn per sandbox, valid until midnight
Europe/Berlin of the day they were issued, judged by the sandbox clock (not the real one).
Revoking rotates the secret, so every token issued so far stops verifying at once."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt

BERLIN = ZoneInfo("Europe/Berlin")
ALGORITHM = "HS256"
BEARER = "Bearer "


def berlin_midnight_after(moment: datetime) -> datetime:
    """Midnight at the end of the Berlin day that contains `moment`, in UTC."""
    local_day = moment.astimezone(BERLIN).date() + timedelta(days=1)
    return datetime(local_day.year, local_day.month, local_day.day, tzinfo=BERLIN).astimezone(UTC)


class TokenIssuer:
    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self.issued = 0

    def issue(self, subject: str, now: datetime) -> tuple[str, datetime]:
        expires_at = berlin_midnight_after(now)
        claims = {
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": secrets.token_hex(8),
        }
        self.issued += 1
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at

    def verify(self, authorization: str | None, now: datetime) -> bool:
        """True for `Bearer <token>` with a token of ours that has not expired by `now`."""
        if authorization is None or not authorization.startswith(BEARER):
            return False
        try:
            # The sandbox clock, not the real one, decides expiry.
            claims = jwt.decode(
                authorization[len(BEARER) :],
                self._secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub"]},
            )
        except jwt.InvalidTokenError:
            return False
        expires = claims.get("exp")
        return isinstance(expires, int) and now.timestamp() < expires

    def revoke_all(self) -> None:
        self._secret = secrets.token_bytes(32)
