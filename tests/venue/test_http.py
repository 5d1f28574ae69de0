"""HttpVenue against a fake venue we own, over loopback: headers, tokens, status mapping,
retries, bounds and secrecy. The client's clock is manual; its sleeps pass at once."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from quoter.basics.usage import Lane
from quoter.domain import Price, QuoteRequest, RfqStatus
from quoter.venue.config import UsagePlanConfig, VenueConfig
from quoter.venue.errors import (
    AuthenticationFailed,
    MalformedResponse,
    NotFound,
    QuotaExhausted,
    QuoteNotActive,
    QuoteRejected,
    RateLimited,
    RfqNotOpen,
    SubmitOutcomeUnknown,
    VenueError,
    VenueUnavailable,
)
from quoter.venue.http import HttpVenue
from quoter.venue.stats import VenueStats
from tests.venue import payloads
from tests.venue.clocks import InstantClock
from tests.venue.fake_venue import CREDENTIALS, FakeVenue, Reply, fake_venue

SECRETS = ("k3y-abc-123", "s3cr3t-xyz", "secretish")

Opener = Callable[..., AbstractAsyncContextManager[HttpVenue]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeVenue]:
    async with fake_venue() as venue:
        yield venue


@pytest.fixture
def clock() -> InstantClock:
    return InstantClock()


@pytest.fixture
def open_venue(fake: FakeVenue, clock: InstantClock, tmp_path: Path) -> Opener:
    @asynccontextmanager
    async def opener(**overrides: Any) -> AsyncIterator[HttpVenue]:
        config = VenueConfig.model_validate(
            {
                "base_url": fake.base_url,
                "usage_plan": UsagePlanConfig(ledger_path=tmp_path / "ledger.json"),
                **overrides,
            }
        )
        async with HttpVenue.open(
            config, CREDENTIALS, clock, stats=VenueStats(), rng=random.Random(3)
        ) as venue:
            yield venue

    return opener


def make_request(client_quote_id: str = "q-1") -> QuoteRequest:
    until = datetime(2026, 3, 2, 9, 17, tzinfo=UTC)
    return QuoteRequest("r1", client_quote_id, until, price=Price(87.35))


async def test_headers_tokens_and_bodies(fake: FakeVenue, open_venue: Opener) -> None:
    fake.then(
        "POST /rfqs/r1/quotes", Reply(201, payloads.quote(rfq_id="r1", client_quote_id="q-1"))
    )
    async with open_venue() as venue:
        await venue.list_rfqs(status=RfqStatus.OPEN)
        await venue.list_quotes()
        quote = await venue.submit_quote(make_request())
    assert quote.client_quote_id == "q-1"
    auth, *rest = fake.seen
    assert (auth.method, auth.path) == ("POST", "/authenticate")
    assert "Authorization" not in auth.headers
    assert json.loads(auth.body) == {
        "grant_type": "client_credentials",
        "client_id": "client-7",
        "client_secret": "s3cr3t-xyz",
    }
    assert auth.headers["Content-Type"] == "application/json; charset=utf-8"
    assert all(s.headers["x-api-key"] == "k3y-abc-123" for s in fake.seen)
    assert all(s.headers["Authorization"] == "Bearer tok-1-secretish" for s in rest)
    assert fake.tokens_issued == 1
    assert json.loads(rest[-1].body) == {
        "client-quote-id": "q-1",
        "price": {"value": 87.35, "currency": "EUR"},
        "valid-until": "2026-03-02T09:17:00.000Z",
    }
    assert rest[0].raw_path == "/v2.2/rfqs?status=open&limit=100&skip=0"


async def test_query_values_are_encoded(fake: FakeVenue, open_venue: Opener) -> None:
    since = datetime(2026, 3, 2, 10, 0, 0, 5000, tzinfo=UTC)
    async with open_venue(api_prefix="/v2.0") as venue:
        await venue.list_quotes(updated_since=since, limit=5, skip=10)
        await venue.list_trades(traded_from=since, traded_to=since + timedelta(hours=1))
    quotes, trades = fake.seen[1:]
    assert quotes.raw_path == (
        "/v2.0/quotes?updated-since=2026-03-02T10%3A00%3A00.005Z&limit=5&skip=10"
    )
    assert "traded-at=2026-03-02T10%3A00%3A00.005Z_2026-03-02T11%3A00%3A00.005Z" in trades.raw_path


async def test_one_reauthentication_on_401_then_failure(
    fake: FakeVenue, open_venue: Opener
) -> None:
    async with open_venue() as venue:
        await venue.list_rfqs()
        fake.valid_tokens.clear()  # the venue revoked every token
        await venue.list_rfqs()
        assert fake.tokens_issued == 2
        assert venue.stats.reauths == 1
        fake.then(
            "GET /rfqs",
            Reply(401, {"message": "Unauthorized"}),
            Reply(401, {"message": "Unauthorized"}),
        )
        with pytest.raises(AuthenticationFailed, match="401 after re-authentication"):
            await venue.list_rfqs()
        assert fake.tokens_issued == 3


async def test_concurrent_401s_share_one_reauthentication(
    fake: FakeVenue, open_venue: Opener
) -> None:
    import asyncio

    async with open_venue() as venue:
        await venue.list_rfqs()
        fake.valid_tokens.clear()
        await asyncio.gather(*(venue.list_quotes() for _ in range(5)))
    assert fake.tokens_issued == 2


async def test_bad_key_or_credentials(fake: FakeVenue, open_venue: Opener) -> None:
    fake.then("POST /authenticate", Reply(401, {"message": "Unauthorized"}))
    async with open_venue() as venue:
        with pytest.raises(AuthenticationFailed) as caught:
            await venue.list_rfqs()
        assert caught.value.status == 401
        fake.then("GET /rfqs", Reply(403, {"message": "Forbidden"}))
        with pytest.raises(AuthenticationFailed):
            await venue.list_rfqs()


async def test_the_token_is_renewed_after_expiry(
    fake: FakeVenue, open_venue: Opener, clock: InstantClock
) -> None:
    fake.token_field = "access-token"
    async with open_venue() as venue:
        await venue.list_rfqs()
        clock.advance(3600)
        await venue.list_rfqs()
        assert fake.tokens_issued == 1  # reused all day
        clock.advance(13 * 3600)  # past midnight Berlin
        await venue.list_rfqs()
        assert fake.tokens_issued == 2
        assert venue.stats.token_renewals == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(404, {"error": {"code": "NOT_FOUND", "message": "no such RFQ"}}), NotFound),
        (Reply(409, {"error": {"code": "RFQ_NOT_OPEN", "message": "expired"}}), RfqNotOpen),
        (Reply(409, {"error": {"code": "QUOTE_NOT_ACTIVE", "message": "x"}}), QuoteNotActive),
        (Reply(422, {"error": {"code": "INVALID_QUOTE", "message": "price"}}), QuoteRejected),
        (Reply(400, {"error": {"code": "INVALID_PARAMETER", "message": "x"}}), QuoteRejected),
        (Reply(429, {"message": "Limit Exceeded"}), QuotaExhausted),
        (Reply(302, {"message": "elsewhere"}), MalformedResponse),
        (Reply(200, raw=b"{not json"), MalformedResponse),
        (Reply(200, {"items": "nope"}), MalformedResponse),
    ],
)
async def test_statuses_map_to_errors(
    fake: FakeVenue, open_venue: Opener, reply: Reply, error: type[VenueError]
) -> None:
    fake.then("GET /rfqs/r1", reply)
    fake.then("GET /quotes", reply)
    async with open_venue() as venue:
        with pytest.raises(error):
            await venue.get_rfq("r1")
        with pytest.raises(error):
            await venue.list_quotes()


async def test_retry_safe_errors_are_retried_then_raised(
    fake: FakeVenue, open_venue: Opener
) -> None:
    fake.then("GET /quotes", Reply(503), Reply(429, {"message": "Too Many Requests"}))
    async with open_venue(read_retries=2) as venue:
        page = await venue.list_quotes()
        assert page.items == ()
        assert venue.stats.retries == {"list_quotes": 2}
        assert venue.stats.rate_limited == 1
        fake.then("GET /quotes", *[Reply(502)] * 3)
        with pytest.raises(VenueUnavailable) as caught:
            await venue.list_quotes()
        assert caught.value.status == 502
        fake.then("GET /quotes", *[Reply(429, {"message": "Too Many Requests"})] * 3)
        with pytest.raises(RateLimited):
            await venue.list_quotes()
        snapshot = venue.stats.snapshot()
    # every attempt, the authentication included, went through the guard and the ledger
    assert venue.guard_state().spent_today == len(fake.seen) == snapshot.requests_total() == 10


async def test_a_429_too_many_requests_empties_our_bucket(
    fake: FakeVenue, open_venue: Opener, clock: InstantClock
) -> None:
    fake.then("GET /quotes", Reply(429, {"message": "Too Many Requests"}))
    async with open_venue() as venue:
        await venue.list_quotes()
    # after the 429 (backoff, then the guard) the retry waited for the bucket to refill past both
    # reserves: 31 tokens at 9/s
    assert clock.monotonic() == pytest.approx(31 / 9)


async def test_limit_exceeded_stops_every_lane_until_midnight(
    fake: FakeVenue, open_venue: Opener
) -> None:
    fake.then("GET /quotes", Reply(429, {"message": "Limit Exceeded"}))
    async with open_venue() as venue:
        with pytest.raises(QuotaExhausted):
            await venue.list_quotes()
        sent = len(fake.seen)
        with pytest.raises(QuotaExhausted):
            await venue.withdraw_quote("r1", "q1")
        assert len(fake.seen) == sent
        assert venue.guard_state().left_today == {lane: 0 for lane in Lane}
        assert venue.stats.quota_exceeded == 1


async def test_a_gateway_504_on_submit_is_retried_with_the_same_id(
    fake: FakeVenue, open_venue: Opener
) -> None:
    original = payloads.quote(rfq_id="r1", client_quote_id="q-9")
    fake.then(
        "POST /rfqs/r1/quotes", Reply(504, {"message": "Gateway Timeout"}), Reply(200, original)
    )
    async with open_venue() as venue:
        quote = await venue.submit_quote(make_request("q-9"))
    assert quote.id == original["id"]
    bodies = [s.body for s in fake.routes("POST /rfqs/r1/quotes")]
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


async def test_a_submit_never_answered_is_outcome_unknown(
    fake: FakeVenue, open_venue: Opener
) -> None:
    fake.then("POST /rfqs/r1/quotes", *[Reply(504, {"message": "Gateway Timeout"})] * 3)
    async with open_venue(submit_retries=2) as venue:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await venue.submit_quote(make_request("q-5"))
        assert venue.stats.submit_outcome_unknown == 1
    assert caught.value.client_quote_id == "q-5"
    assert {json.loads(s.body)["client-quote-id"] for s in fake.routes("POST /rfqs/r1/quotes")} == {
        "q-5"
    }
    assert len(fake.routes("POST /rfqs/r1/quotes")) == 3


async def test_a_submit_answered_with_another_quote_may_be_live(
    fake: FakeVenue, open_venue: Opener
) -> None:
    """A 2xx: the venue took our request, whatever its body says; ours may be live."""
    fake.then(
        "POST /rfqs/r1/quotes", Reply(201, payloads.quote(rfq_id="r1", client_quote_id="other"))
    )
    async with open_venue() as venue:
        with pytest.raises(
            SubmitOutcomeUnknown, match="client-quote-id: the answer is quote other"
        ):
            await venue.submit_quote(make_request())


async def test_a_submit_answered_2xx_with_a_body_that_does_not_parse_may_be_live(
    fake: FakeVenue, open_venue: Opener
) -> None:
    fake.then("POST /rfqs/r1/quotes", Reply(201, raw=b'{"id": "q-1", "rfq-id"'))
    async with open_venue() as venue:
        with pytest.raises(SubmitOutcomeUnknown, match="answered 201"):
            await venue.submit_quote(make_request())
        assert venue.stats.submit_outcome_unknown == 1


async def test_withdrawals_take_the_withdraw_lane_and_retry(
    fake: FakeVenue, open_venue: Opener
) -> None:
    fake.then("DELETE /rfqs/r1/quotes/q1", Reply(503), Reply(204, raw=b""))
    fake.then(
        "DELETE /rfqs/r1/quotes/q2",
        Reply(409, {"error": {"code": "QUOTE_NOT_ACTIVE", "message": "x"}}),
    )
    async with open_venue() as venue:
        await venue.withdraw_quote("r1", "q1")
        with pytest.raises(QuoteNotActive):
            await venue.withdraw_quote("r1", "q2")
        assert venue.stats.snapshot().requests_by(lane="WITHDRAW") == 4  # auth, 503, 204, 409
        assert len(fake.routes("DELETE /rfqs/r1/quotes/q2")) == 1


async def test_timeouts_and_refused_connections_are_unavailable(
    fake: FakeVenue, open_venue: Opener, tmp_path: Path, clock: InstantClock
) -> None:
    fake.then("GET /quotes", Reply(200, {"items": []}, delay_s=2.0))
    async with open_venue(request_timeout_s=0.2, connect_timeout_s=0.2, read_retries=0) as venue:
        with pytest.raises(VenueUnavailable, match="timed out"):
            await venue.list_quotes()
        assert venue.stats.snapshot().requests_by(endpoint="list_quotes") == 1
    config = VenueConfig(
        base_url="http://127.0.0.1:9",
        read_retries=1,
        usage_plan=UsagePlanConfig(ledger_path=tmp_path / "other.json"),
    )
    async with HttpVenue.open(config, CREDENTIALS, clock) as venue:
        with pytest.raises(VenueUnavailable, match="connection failed"):
            await venue.list_quotes()
        assert venue.stats.snapshot().requests == {("POLL", "authenticate", "connection-error"): 2}


async def test_oversized_answers_are_refused(fake: FakeVenue, open_venue: Opener) -> None:
    fake.then("GET /quotes", Reply(200, raw=b"[" + b" " * 3000 + b"]"))
    async with open_venue(max_response_bytes=2000) as venue:
        with pytest.raises(MalformedResponse, match="exceeds 2000"):
            await venue.list_quotes()


async def test_malformed_items_are_counted_not_raised(fake: FakeVenue, open_venue: Opener) -> None:
    bad = payloads.without(payloads.rfq(id="bad-1"), "quote-deadline")
    fake.then("GET /rfqs", Reply(200, payloads.page([payloads.rfq(), bad])))
    async with open_venue() as venue:
        page = await venue.list_rfqs()
        assert len(page.items) == 1
        assert page.rejected[0].item_id == "bad-1"
        assert venue.stats.malformed_items == {"list_rfqs": 1}


async def test_page_limits_are_bounded(fake: FakeVenue, open_venue: Opener) -> None:
    fake.then("GET /rfqs", Reply(200, payloads.page([payloads.rfq()] * 3)))
    async with open_venue() as venue:
        with pytest.raises(ValueError, match="limit"):
            await venue.list_rfqs(limit=101)
        with pytest.raises(MalformedResponse, match="more than 2"):
            await venue.list_rfqs(limit=2)


async def test_secrets_never_reach_messages_reprs_or_logs(
    fake: FakeVenue, open_venue: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    echo = "key k3y-abc-123 secret s3cr3t-xyz token tok-1-secretish"
    fake.then("GET /quotes", Reply(400, {"error": {"code": "BAD", "message": echo}}))
    fake.then("GET /rfqs", Reply(503, {"message": echo}))
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with open_venue(read_retries=1) as venue:
            await venue.list_trades()
            for call in (venue.list_quotes, venue.list_rfqs):
                try:
                    await call()
                except VenueError as error:
                    texts += [str(error), repr(error)]
            texts += [repr(venue), repr(venue.stats.snapshot()), repr(venue.guard_state())]
    texts += [r.getMessage() for r in caplog.records]
    assert texts
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert "***" in texts[0]
