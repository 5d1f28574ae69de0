"""No audit key from the environment running the tests: each test says which key it uses."""

from __future__ import annotations

import pytest

from quoter.audit.key import KEY_VARIABLE


@pytest.fixture(autouse=True)
def _no_audit_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
