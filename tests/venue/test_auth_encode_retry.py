"""Tokens, what we send, and the retry rules: pure parts, no server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quoter.domain import Price, QuoteRequest
from quoter.venue.auth import berlin_midnight_after, parse_token
from quoter.venue.encode import format_instant, query_string, quote_body, traded_at_range
from quoter.venue.errors import (
    MalformedResponse,
    NotFound,
    QuoteRejected,
    RateLimited,
    SubmitOutcomeUnknown,
    VenueError,
    VenueUnavailable,
)
from quoter.venue.retry import Backoff, RetryAfter, retried, retry_after_s, submitted
from tests.venue.clocks import InstantClock

ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("field", ["access-token", "access_token"])
def test_either_token_spelling_is_accepted(field: str) -> None:
    token = parse_token({field: "abc.def.ghi"}, ISSUED)
    assert token.header() == "Bearer abc.def.ghi"
    assert token.expires_at == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # midnight Berlin (CET)


def test_expires_at_any_offset_and_token_type() -> None:
    token = parse_token(
        {"access-token": "t", "token-type": "bearer", "expires-at": "2026-03-02T18:00:00+02:00"},
        ISSUED,
    )
    assert token.expires_at == datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert not token.needs_renewal(ISSUED, 60)
    assert token.needs_renewal(datetime(2026, 3, 2, 15, 59, 30, tzinfo=UTC), 60)


@pytest.mark.parametrize("expires_at", ["2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"])
def test_an_expires_at_passed_on_arrival_gives_way_to_the_venues_rule(expires_at: str) -> None:
    token = parse_token({"access-token": "t", "expires-at": expires_at}, ISSUED)
    assert token.expires_at == berlin_midnight_after(ISSUED)
    assert token.expiry_refused is not None
    assert expires_at[:16] in token.expiry_refused
    assert not token.needs_renewal(ISSUED, 60)


def test_a_token_come_inside_its_margin_is_renewed_at_its_expiry_not_at_once() -> None:
    token = parse_token({"access-token": "t", "expires-at": "2026-03-02T09:00:30Z"}, ISSUED)
    assert token.expiry_refused is None
    assert not token.needs_renewal(ISSUED + timedelta(seconds=29), 60)
    assert token.needs_renewal(ISSUED + timedelta(seconds=30), 60)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"access-token": ""},
        {"access-token": 5},
        {"access-token": "t", "token-type": "MAC"},
        [],
        "t",
    ],
)
def test_bad_authenticate_answers_are_malformed(body: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_token(body, ISSUED)


def test_the_token_never_shows() -> None:
    token = parse_token({"access-token": "s3cr3t-token"}, ISSUED)
    assert "s3cr3t-token" not in repr(token)
    assert "s3cr3t-token" not in str(token)
    with pytest.raises(MalformedResponse) as caught:
        parse_token({"access-token": "x" * 9000}, ISSUED)
    assert "xxxx" not in str(caught.value)


def test_berlin_midnight_across_dst() -> None:
    summer = datetime(2026, 7, 1, 21, 59, tzinfo=UTC)  # 23:59 CEST
    assert berlin_midnight_after(summer) == datetime(2026, 7, 1, 22, tzinfo=UTC)
    late = datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # already 00:00 on 2 July in Berlin
    assert berlin_midnight_after(late) == datetime(2026, 7, 2, 22, tzinfo=UTC)
    assert berlin_midnight_after(datetime(2026, 3, 28, 12, tzinfo=UTC)) == datetime(
        2026, 3, 28, 23, tzinfo=UTC
    )


def test_timestamps_are_sent_in_utc_with_ms_and_z() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_instant(datetime(2026, 3, 2, 10, 15, 0, 999_999, tzinfo=cet)) == (
        "2026-03-02T09:15:00.999Z"
    )
    with pytest.raises(ValueError, match="offset"):
        format_instant(datetime(2026, 3, 2))


def test_query_values_are_percent_encoded() -> None:
    cet = timezone(timedelta(hours=1))
    assert query_string({"a": "x+y", "b": None, "c": 5}) == "a=x%2By&c=5"
    assert "%2B" not in query_string({"t": datetime(2026, 1, 1, tzinfo=cet)})
    assert traded_at_range(None, None, ISSUED) is None
    assert (
        traded_at_range(ISSUED, None, ISSUED) == "2026-03-02T09:00:00.000Z_2026-03-03T09:00:00.000Z"
    )


def test_quote_bodies_are_kebab_case_with_3_decimals() -> None:
    one_way = QuoteRequest("r1", "q-1", ISSUED, price=Price(87.35000000001))
    assert quote_body(one_way) == {
        "client-quote-id": "q-1",
        "price": {"value": 87.35, "currency": "EUR"},
        "valid-until": "2026-03-02T09:00:00.000Z",
    }
    two_way = QuoteRequest("r1", "q-2", ISSUED, bid=Price(80.0), ask=Price(90.1234))
    body = quote_body(two_way)
    assert "price" not in body
    assert body["ask"] == {"value": 90.123, "currency": "EUR"}


@pytest.mark.parametrize(
    ("value", "hold_s", "problem"),
    [
        (None, 0.0, None),
        ("2", 2.0, None),
        (" 0 ", 0.0, None),
        ("Mon, 02 Mar 2026 09:00:03 GMT", 3.0, None),
        ("Mon, 02 Mar 2026 08:00:00 GMT", 0.0, None),  # passed already
        ("86400", 5.0, "Retry-After '86400' is past max_retry_after_s 5"),
        ("9" * 400, 5.0, "is past max_retry_after_s 5"),
        ("soon", 1.0, "Retry-After 'soon' is neither seconds nor an HTTP date"),
        ("-1", 1.0, "neither seconds nor an HTTP date"),
        ("1.5", 1.0, "neither seconds nor an HTTP date"),
        ("Mon, 02 Mar 2026 09:00:03", 1.0, "neither seconds nor an HTTP date"),  # no zone
        ("", 1.0, "neither seconds nor an HTTP date"),
    ],
)
def test_a_retry_after_is_read_and_bounded(
    value: str | None, hold_s: float, problem: str | None
) -> None:
    asked = retry_after_s(value, ISSUED, max_s=5.0)
    assert asked.hold_s == pytest.approx(hold_s)
    if problem is None:
        assert asked == RetryAfter(hold_s)
    else:
        assert asked.problem is not None
        assert problem in asked.problem
        assert len(asked.problem) < 120


@given(attempt=st.integers(0, 100), seed=st.integers(0, 2**32))
def test_backoff_is_full_jitter_and_capped(attempt: int, seed: int) -> None:
    delay = Backoff(0.2, 5.0).delay_s(attempt, random.Random(seed))
    assert 0.0 <= delay <= min(5.0, 0.2 * 2**attempt)


class Script:
    """A call that fails with the scripted errors, then answers."""

    def __init__(self, *errors: VenueError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def run_read(script: Script, retries: int = 3) -> str:
    clock = InstantClock()
    return await retried(
        script,
        retries=retries,
        backoff=Backoff(0.2, 5),
        clock=clock,
        rng=random.Random(1),
        on_retry=lambda e: None,
    )


async def run_submit(script: Script, retries: int = 2) -> str:
    clock = InstantClock()
    return await submitted(
        script,
        client_quote_id="q-1",
        retries=retries,
        backoff=Backoff(0.2, 5),
        clock=clock,
        rng=random.Random(1),
        on_retry=lambda e: None,
    )


async def test_reads_retry_retry_safe_errors_only() -> None:
    script = Script(VenueUnavailable("x"), RateLimited("y"))
    assert await run_read(script) == "ok"
    assert script.calls == 3
    script = Script(NotFound("gone"))
    with pytest.raises(NotFound):
        await run_read(script)
    assert script.calls == 1
    script = Script(*[VenueUnavailable("x")] * 4)
    with pytest.raises(VenueUnavailable):
        await run_read(script)
    assert script.calls == 4


async def test_a_submit_that_may_have_landed_is_unknown_not_resent_blind() -> None:
    script = Script(*[VenueUnavailable("504", status=504)] * 3)
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await run_submit(script)
    assert caught.value.client_quote_id == "q-1"
    assert script.calls == 3
    script = Script(VenueUnavailable("timeout"), QuoteRejected("late"))
    with pytest.raises(SubmitOutcomeUnknown):
        await run_submit(script)


async def test_a_submit_refused_before_landing_keeps_its_error() -> None:
    script = Script(*[RateLimited("429")] * 3)
    with pytest.raises(RateLimited):
        await run_submit(script)
    script = Script(QuoteRejected("422"))
    with pytest.raises(QuoteRejected):
        await run_submit(script)
    assert await run_submit(Script(VenueUnavailable("504"), RateLimited("429"))) == "ok"
