"""The sandbox's parts, wired once: state, market, usage plan, tokens, faults and counters."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from quoter.clock import ScaledClock
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.counters import Counters
from quoter.sandbox.errors import ApiError
from quoter.sandbox.faults import Faults
from quoter.sandbox.market import Market
from quoter.sandbox.plan import UsagePlan
from quoter.sandbox.quoting import submit
from quoter.sandbox.records import floor_ms
from quoter.sandbox.reference import ReferencePrice
from quoter.sandbox.store import Store
from quoter.sandbox.tokens import TokenIssuer
from quoter.venue.config import VenueCredentials

Sleep = Callable[[float], Awaitable[None]]


def key_label(api_key: str) -> str:
    """A name for an API key that does not give it away: a hash prefix."""
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:8]


@dataclass(slots=True)
class Sandbox:
    config: SandboxConfig
    clock: ScaledClock
    credentials: VenueCredentials
    store: Store
    market: Market
    plan: UsagePlan
    tokens: TokenIssuer
    faults: Faults
    counters: Counters
    quote_ids: random.Random
    sleep: Sleep

    def now(self) -> datetime:
        return floor_ms(self.clock.now())

    def step(self) -> datetime:
        """Bring the market up to the clock; returns the instant it was stepped to."""
        now = self.now()
        self.market.step(now)
        for late in self.faults.due_stores(now):
            # Refused as the API would refuse it now if the RFQ closed meanwhile.
            with contextlib.suppress(ApiError):
                submit(self.store, self.quote_ids, late.rfq_id, late.body, now)
        return now

    @property
    def key_label(self) -> str:
        return key_label(self.credentials.api_key.get_secret_value())


def build_sandbox(
    config: SandboxConfig,
    clock: ScaledClock,
    credentials: VenueCredentials,
    reference: ReferencePrice,
    sleep: Sleep = asyncio.sleep,
) -> Sandbox:
    store = Store(config.max_rfqs, config.max_quotes, config.max_trades)
    return Sandbox(
        config=config,
        clock=clock,
        credentials=credentials,
        store=store,
        market=Market(config.market, config.seed, store, reference, clock.now()),
        plan=UsagePlan(config.rate_per_s, config.burst, config.daily_quota, clock.monotonic()),
        tokens=TokenIssuer(),
        faults=Faults(),
        counters=Counters(),
        quote_ids=random.Random(f"{config.seed}/quotes"),
        sleep=sleep,
    )


SANDBOX = web.AppKey("sandbox", Sandbox)
