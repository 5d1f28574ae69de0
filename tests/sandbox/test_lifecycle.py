from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from quoter.clock import ScaledClock
from quoter.domain import Commodity, RfqStatus
from quoter.sandbox.config import MarketConfig
from quoter.sandbox.market import Market
from quoter.sandbox.reference import default_reference_price
from quoter.sandbox.server import run_sandbox
from quoter.sandbox.store import Store
from quoter.sandbox.wire import rfq_json
from tests.conftest import SANDBOX_START, sandbox_config
from tests.sandbox.client import Venue, price

BERLIN = ZoneInfo("Europe/Berlin")


async def status_of(venue: Venue, rfq_id: str) -> tuple[str, str]:
    rfq = (await venue.call("GET", f"/rfqs/{rfq_id}")).body
    return rfq["status"], rfq["my-quote-status"]


async def test_unquoted_rfq_without_competition_expires(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"competitor-price": None})
    await venue.advance(299)
    assert await status_of(venue, rfq["id"]) == ("open", "not-quoted")
    await venue.advance(2)
    assert await status_of(venue, rfq["id"]) == ("expired", "not-quoted")


async def test_best_ask_wins_and_makes_a_trade_on_our_side(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"competitor-price": 85.0})
    quote = (await venue.quote(rfq, price=price(84.99))).body
    await venue.advance(301)
    assert await status_of(venue, rfq["id"]) == ("traded", "won")
    trades = (await venue.call("GET", "/trades")).body
    assert trades["total"] == 1
    trade = trades["items"][0]
    assert trade["action"] == "sell"  # the requester bought
    assert trade["quote-id"] == quote["id"]
    assert trade["rfq-id"] == rfq["id"]
    assert trade["pricing"]["price"] == {"value": 84.99, "currency": "EUR"}
    assert trade["traded-at"] == rfq["quote-deadline"]
    assert trade["counterparty"]["company"]["name"] == "Stadtwerke Beispiel GmbH"
    accepted = (await venue.call("GET", "/quotes", params={"status": "accepted"})).body
    assert [q["id"] for q in accepted["items"]] == [quote["id"]]


async def test_worse_price_or_tie_loses(venue: Venue) -> None:
    rfq = await venue.make_rfq(action="sell", **{"competitor-price": 85.0})
    await venue.quote(rfq, price=price(85.0))  # a tie goes to the competitor
    await venue.advance(301)
    assert await status_of(venue, rfq["id"]) == ("traded", "lost")
    assert (await venue.call("GET", "/trades")).body["total"] == 0


async def test_requester_selling_takes_the_highest_bid(venue: Venue) -> None:
    rfq = await venue.make_rfq(action="sell", **{"competitor-price": 85.0})
    await venue.quote(rfq, price=price(85.5))
    await venue.advance(301)
    trade = (await venue.call("GET", "/trades")).body["items"][0]
    assert trade["action"] == "buy"


async def test_two_way_is_judged_on_the_hidden_side(venue: Venue) -> None:
    rfq = await venue.make_rfq(
        **{"quote-type": "two-way", "requester-side": "sell", "competitor-price": 85.0}
    )
    await venue.quote(rfq, bid=price(85.2), ask=price(90.0))
    await venue.advance(301)
    trade = (await venue.call("GET", "/trades")).body["items"][0]
    assert (trade["action"], trade["pricing"]["price"]["value"]) == ("buy", 85.2)


async def test_quote_expires_at_valid_until(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"competitor-price": 85.0})
    await venue.quote(rfq, price=price(1.0), **{"valid-until": "2026-03-02T09:02:00Z"})
    await venue.advance(121)
    quotes = (await venue.call("GET", "/quotes")).body["items"]
    assert (quotes[0]["status"], quotes[0]["updated-at"]) == ("expired", "2026-03-02T09:02:00.000Z")
    assert await status_of(venue, rfq["id"]) == ("open", "expired")
    await venue.advance(300)
    assert await status_of(venue, rfq["id"]) == ("traded", "expired")


async def test_cancellation_makes_our_quote_lost(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"cancel-after-s": 60})
    await venue.quote(rfq)
    await venue.advance(61)
    assert await status_of(venue, rfq["id"]) == ("cancelled", "lost")
    quotes = (await venue.call("GET", "/quotes")).body["items"]
    assert quotes[0]["status"] == "lost"


async def test_polling_updated_since_sees_the_end(venue: Venue) -> None:
    rfq = await venue.make_rfq(**{"competitor-price": None})
    first = (await venue.call("GET", "/rfqs", params={"updated-since": rfq["created-at"]})).body
    last_seen = first["items"][-1]["updated-at"]
    await venue.advance(400)
    later = (await venue.call("GET", "/rfqs", params={"updated-since": last_seen})).body
    assert [(r["id"], r["status"]) for r in later["items"]] == [(rfq["id"], "expired")]
    assert later["items"][0]["updated-at"] == rfq["quote-deadline"]


async def test_trades_filters(venue: Venue) -> None:
    for area in ("DE", "THE"):
        commodity = "power" if area == "DE" else "gas"
        instrument = {"commodity": commodity, "market-area": area}
        rfq = await venue.make_rfq(instrument=instrument, **{"competitor-price": None})
        await venue.quote(rfq)
        await venue.advance(301)
    gas = (await venue.call("GET", "/trades", params={"commodity": "gas"})).body["items"]
    assert [t["instrument"]["market-area"] for t in gas] == ["THE"]
    window = "2026-03-02T09:05:00Z_2026-03-02T10:05:00%2B01:00"  # 09:05Z to 09:05Z: empty
    reply = await venue.call("GET", f"/trades?traded-at={window}")
    assert reply.body["total"] == 0
    window = "2026-03-02T10:04:00%2B01:00_2026-03-02T09:06:00Z"
    assert (await venue.call("GET", f"/trades?traded-at={window}")).body["total"] == 1
    assert (await venue.call("GET", "/trades", params={"venue": "other"})).body["total"] == 0
    for bad in ("2026-03-02T09:05:00Z", "x_y", "2026-03-02T10:00:00Z_2026-03-02T09:00:00Z"):
        reply = await venue.call("GET", "/trades", params={"traded-at": bad})
        assert reply.status == 400


def _market(seed: int, config: MarketConfig, store: Store | None = None) -> Market:
    store = store or Store(5000, 20000, 5000)
    return Market(config, seed, store, default_reference_price, SANDBOX_START)


def test_same_seed_same_rfqs_and_arrivals_are_poisson() -> None:
    config = MarketConfig(arrivals_per_min=6.0)
    runs = []
    for seed in (11, 11, 12):
        market = _market(seed, config)
        for minute in range(1, 61):
            market.step(SANDBOX_START + timedelta(minutes=minute))
        runs.append([rfq_json(s, "/v2.2") for s in market.store.rfqs.values()])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert 300 < len(runs[0]) < 420  # 360 expected in an hour


def test_generated_rfqs_are_realistic() -> None:
    market = _market(3, MarketConfig(arrivals_per_min=30.0))
    market.step(SANDBOX_START + timedelta(minutes=40))
    sims = list(market.store.rfqs.values())
    assert len(sims) > 900
    kinds = {s.rfq.instrument.product_type for s in sims}
    assert len(kinds) >= 8
    for sim in sims:
        rfq = sim.rfq
        start = rfq.instrument.start.astimezone(BERLIN)
        if rfq.instrument.commodity is Commodity.GAS:
            assert rfq.instrument.market_area in {"THE", "TTF"}
            assert start.hour == 6
        else:
            assert rfq.instrument.market_area in {"DE", "FR", "NL"}
            assert start.hour == 0
        assert rfq.instrument.start > rfq.created_at
        assert rfq.instrument.start.year <= rfq.created_at.year + 1
        assert 1 <= rfq.quantity_mw <= 50
        assert timedelta(minutes=2) <= rfq.quote_deadline - rfq.created_at <= timedelta(minutes=10)
        assert (rfq.action is None) == (rfq.quote_type.value == "two-way")
    assert any(s.rfq.status is RfqStatus.CANCELLED for s in sims)
    assert any(s.rfq.status is RfqStatus.EXPIRED for s in sims)
    assert any(s.rfq.status is RfqStatus.TRADED for s in sims)


def test_state_stays_bounded_over_a_long_run() -> None:
    store = Store(max_rfqs=200, max_quotes=50, max_trades=10)
    market = _market(5, MarketConfig(arrivals_per_min=10.0, max_catchup_s=600), store)
    for hour in range(1, 25):
        market.step(SANDBOX_START + timedelta(hours=hour))
        assert len(store.rfqs) <= 200
    assert len(store.rfqs) == 200


async def test_market_runs_on_the_sandbox_clock() -> None:
    config = sandbox_config(market=MarketConfig(arrivals_per_min=6.0), seed=99)
    async with (
        run_sandbox(config, clock=ScaledClock(start=config.start)) as running,
        aiohttp.ClientSession(running.base_url) as session,
    ):
        venue = Venue(running, session)
        await venue.advance(600)
        page = (await venue.call("GET", "/rfqs", params={"limit": "100"})).body
        assert 30 < page["total"] < 100
        ended = [r for r in page["items"] if r["status"] != "open"]
        assert ended
        assert all(r["updated-at"] <= "2026-03-02T09:10:01" for r in ended)
        created = datetime.fromisoformat(page["items"][-1]["created-at"])
        assert created.tzinfo is not None
        assert created > SANDBOX_START.astimezone(UTC)
