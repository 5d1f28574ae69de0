"""Helpers for contract tests: the real client against the real sandbox over loopback."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from quoter.domain import Price, QuoteRequest, Rfq
from quoter.sandbox.server import RunningSandbox
from quoter.venue.config import UsagePlanConfig, VenueConfig, VenueCredentials
from quoter.venue.http import HttpVenue
from quoter.venue.stats import VenueStats


async def control(sandbox: RunningSandbox, method: str, path: str, body: object = None) -> Any:
    """Call a sandbox control (`/_sandbox/...`): not counted, no key, no token."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{sandbox.base_url}/_sandbox{path}", json=body) as answer,
    ):
        assert answer.status < 300, await answer.text()
        no_body = answer.status == 204 or answer.content_length == 0
        return None if no_body else await answer.json()


async def counters(sandbox: RunningSandbox) -> dict[str, Any]:
    result: dict[str, Any] = await control(sandbox, "GET", "/counters")
    return result


async def fault(sandbox: RunningSandbox, kind: str, count: int = 1, **extra: Any) -> None:
    await control(sandbox, "POST", "/faults", {"kind": kind, "count": count, **extra})


async def new_rfq(sandbox: RunningSandbox, **overrides: Any) -> str:
    created = await control(sandbox, "POST", "/rfqs", overrides)
    rfq_id: str = created["id"]
    return rfq_id


async def advance(sandbox: RunningSandbox, seconds: float) -> None:
    await control(sandbox, "POST", "/clock", {"advance-s": seconds})


def client_config(sandbox: RunningSandbox, ledger: Path, **overrides: Any) -> VenueConfig:
    plan = overrides.pop("usage_plan", {})
    return VenueConfig.model_validate(
        {
            "base_url": sandbox.base_url,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "usage_plan": UsagePlanConfig.model_validate({"ledger_path": ledger, **plan}),
            **overrides,
        }
    )


@asynccontextmanager
async def client(
    sandbox: RunningSandbox,
    tmp_path: Path,
    *,
    credentials: VenueCredentials | None = None,
    **overrides: Any,
) -> AsyncIterator[HttpVenue]:
    """The real HttpVenue on the sandbox's own clock, with a ledger in `tmp_path`."""
    config = client_config(sandbox, tmp_path / "ledger.json", **overrides)
    async with HttpVenue.open(
        config,
        credentials or sandbox.credentials,
        sandbox.clock,
        stats=VenueStats(),
        rng=random.Random(11),
    ) as venue:
        yield venue


def quote_for(rfq: Rfq, client_quote_id: str, now: datetime, price: float = 87.35) -> QuoteRequest:
    valid_until = min(rfq.quote_deadline, now + timedelta(seconds=60))
    if rfq.action is None:
        return QuoteRequest(
            rfq.id, client_quote_id, valid_until, bid=Price(price - 1), ask=Price(price + 1)
        )
    return QuoteRequest(rfq.id, client_quote_id, valid_until, price=Price(price))
