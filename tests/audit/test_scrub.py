"""No secret reaches the trail: by key, by type, by bearer string, by known value."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from quoter.audit import JsonlAudit, verify
from quoter.audit.scrub import REDACTED, Scrubber, is_secret_key
from tests.audit.trails import DAY1


@pytest.mark.parametrize(
    "key",
    [
        "api-key",
        "X-Api-Key",
        "apiKey",
        "client_secret",
        "access-token",
        "Authorization",
        "password",
        "credentials",
        "private_key",
    ],
)
def test_secret_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["rfq-id", "client-quote-id", "reason", "kills", "detail"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)


def test_values_are_replaced_wherever_they_hide() -> None:
    scrubbed = Scrubber(secret_values=["s3cr3t-value"]).scrub(
        {
            "rfq-id": "r1",
            "headers": {"Authorization": "Bearer abc.def", "x-api-key": "k-123456"},
            "creds": [{"client_secret": "zzz"}],
            "typed": SecretStr("hidden-one"),
            "error": "401 for Bearer eyJhbGciOi and s3cr3t-value in the body",
        }
    )
    assert scrubbed == {
        "rfq-id": "r1",
        "headers": {"Authorization": REDACTED, "x-api-key": REDACTED},
        "creds": [{"client_secret": REDACTED}],
        "typed": REDACTED,
        "error": f"401 for Bearer {REDACTED} and {REDACTED} in the body",
    }


def test_the_trail_holds_no_secret(tmp_path: Path) -> None:
    audit = JsonlAudit(tmp_path, secret_values=["very-secret-api-key"])
    audit.record(
        "kill-switch",
        DAY1,
        {"by": "ops", "token": "tok-999999", "note": "key very-secret-api-key leaked?"},
    )
    audit.close()
    text = b"".join(p.read_bytes() for p in tmp_path.glob("audit-*.jsonl"))
    assert b"tok-999999" not in text
    assert b"very-secret-api-key" not in text
    assert verify(tmp_path).intact
