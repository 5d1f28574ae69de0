from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain import Action, Commodity, Load, ProductType, QuoteType
from quoter.engine.records import check_fields
from quoter.pricing.delivery import DeliveryBucket
from quoter.risk.book import Fill, MidWindow, RiskBook, payment_date
from quoter.risk.checks import ALL_PASSED, PASSED, Proposal, check, check_positions
from quoter.risk.config import CollarConfig, RiskConfig
from tests.factories import make_instrument, make_rfq


def make_config(**overrides: Any) -> RiskConfig:
    fields: dict[str, Any] = {
        "collar": CollarConfig(max_distance_eur_mwh=5.0, max_drift_eur_mwh=3.0, drift_window_s=60),
        "max_volume_mw": 50.0,
        "max_notional_eur": 1e8,
        "max_open_quotes": 3,
        "max_quotes_per_minute": 10,
        "max_position_mwh": 10_000.0,
        "credit_limit_eur": 1e9,
        "allowed_areas": frozenset({"DE", "FR"}),
        "allowed_loads": frozenset(Load),
        "allowed_products": frozenset(ProductType),
        "max_curve_age_s": 3600.0,
        "fill_throttle_count": 3,
        "fill_throttle_window_s": 300.0,
    }
    fields.update(overrides)
    return RiskConfig(**fields)


def bucket(month: str) -> DeliveryBucket:
    return DeliveryBucket(Commodity.POWER, "DE", month)


BUCKET = bucket("2027-01")


def make_proposal(rfq_id: str = "r1", mwh: float = 1000.0, **overrides: Any) -> Proposal:
    rfq = overrides.pop("rfq", None) or make_rfq(id=rfq_id)
    base = Proposal(rfq=rfq, prices=(90.0,), mid=88.0, energy_mwh=mwh, buckets_mwh={BUCKET: mwh})
    return replace(base, **overrides)


def make_book(config: RiskConfig) -> RiskBook:
    return RiskBook(
        drift_window_s=config.collar.drift_window_s,
        fill_window_s=config.fill_throttle_window_s,
        payment_day=config.credit_payment_day,
    )


def failures(config: RiskConfig, book: RiskBook, p: Proposal, now_s: float = 0.0) -> set[str]:
    verdict = check(config, book.view(p, now_s=now_s, curve_age_s=10.0), p)
    return {r.code for r in verdict.failures}


def test_a_plain_quote_passes_every_check() -> None:
    config = make_config()
    verdict = check(
        config, make_book(config).view(make_proposal(), now_s=0, curve_age_s=1), make_proposal()
    )
    assert verdict.passed
    assert len(verdict.results) == 12
    # The shared verdict of a full pass, whose audit parts are made once: the same results.
    assert verdict is ALL_PASSED


def test_a_verdict_with_a_failure_or_a_note_is_its_own_and_audited_as_such() -> None:
    config = make_config(max_volume_mw=1.0)
    p = make_proposal()
    failed = check(config, make_book(config).view(p, now_s=0, curve_age_s=1), p)
    assert failed is not ALL_PASSED
    assert [r.code for r in failed.failures] == ["max-volume"]
    fields = check_fields(failed.results)
    assert [(f.code, f.passed, f.detail) for f in fields] == [
        (r.code, r.passed, r.detail) for r in failed.results
    ]
    # Every part of a full pass is the shared pass of its code, as built one by one.
    assert all(r is PASSED[r.code] for r in ALL_PASSED.results)
    assert check_fields(ALL_PASSED.results) == check_fields(tuple(list(ALL_PASSED.results)))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"rfq": make_rfq(instrument=make_instrument(market_area="NL"))}, "area-not-allowed"),
        ({"prices": (94.0,)}, "collar"),
        ({"prices": (82.0,)}, "collar"),
        ({"rfq": make_rfq(quantity_mw=60.0)}, "max-volume"),
        ({"prices": (90.0,), "energy_mwh": 2e6, "buckets_mwh": {}}, "max-notional"),
        ({"buckets_mwh": {BUCKET: 20_000.0}}, "position-limit"),
    ],
)
def test_each_limit_refuses_with_its_code(overrides: dict[str, Any], code: str) -> None:
    config = make_config()
    assert failures(config, make_book(config), make_proposal(**overrides)) == {code}


def test_allowed_loads_and_products_are_enforced() -> None:
    config = make_config(
        allowed_loads=frozenset({Load.BASE}), allowed_products=frozenset({ProductType.MONTH})
    )
    peak = make_proposal(rfq=make_rfq(instrument=make_instrument(load=Load.PEAK)))
    assert failures(config, make_book(config), peak) == {"load-not-allowed"}
    assert failures(config, make_book(config), make_proposal()) == {"product-not-allowed"}


def test_stale_curve_is_refused() -> None:
    config = make_config(max_curve_age_s=5.0)
    p = make_proposal()
    assert not check(config, make_book(config).view(p, now_s=0, curve_age_s=6.0), p).passed


def test_quotes_in_flight_count_at_once_and_a_requote_adds_nothing() -> None:
    config = make_config(max_open_quotes=2, max_position_mwh=1e9)
    book = make_book(config)
    book.reserve(make_proposal("r1"), now_s=0)
    book.reserve(make_proposal("r2"), now_s=1)
    assert failures(config, book, make_proposal("r3"), now_s=2) == {"max-open-quotes"}
    assert failures(config, book, make_proposal("r2"), now_s=2) == set()
    book.release("r1")
    assert failures(config, book, make_proposal("r3"), now_s=2) == set()


def test_quote_rate_is_per_minute() -> None:
    config = make_config(max_quotes_per_minute=2, max_open_quotes=100, max_position_mwh=1e9)
    book = make_book(config)
    book.reserve(make_proposal("r1"), now_s=0)
    book.reserve(make_proposal("r2"), now_s=10)
    assert "max-quotes-per-minute" in failures(config, book, make_proposal("r3"), now_s=30)
    assert "max-quotes-per-minute" not in failures(config, book, make_proposal("r3"), now_s=61)


def test_drift_of_the_mid_inside_the_window() -> None:
    config = make_config()
    book = make_book(config)
    book.record_mid(make_proposal(mid=80.0, prices=(82.0,)), now_s=0)
    moved = make_proposal(mid=84.0, prices=(86.0,))
    assert failures(config, book, moved, now_s=30) == {"drift"}
    assert failures(config, book, moved, now_s=61) == set()


def test_credit_counts_live_quotes_and_fills() -> None:
    config = make_config(credit_limit_eur=250_000.0, max_position_mwh=1e9)
    book = make_book(config)
    book.reserve(make_proposal("r1", mwh=1000.0), now_s=0)  # 90 kEUR pending
    book.reserve(make_proposal("r2", mwh=1000.0), now_s=0)
    book.record_fill(Fill("r1", Action.SELL, 90.0), now_s=1)
    assert failures(config, book, make_proposal("r3", mwh=1000.0), now_s=2) == {"credit-limit"}
    other = make_rfq(id="r4", requester_id="c-999", requester_name="Another Company AG")
    assert failures(config, book, make_proposal(rfq=other, mwh=1000.0), now_s=2) == set()


def test_a_delivery_month_uses_credit_until_it_is_paid_for() -> None:
    config = make_config(credit_limit_eur=150_000.0, max_position_mwh=1e9)
    assert config.credit_payment_day == 20  # EFET: the 20th of the month after delivery
    book = make_book(config)
    book.reserve(make_proposal("r1", mwh=1000.0), now_s=0)  # delivered in January 2027
    book.record_fill(Fill("r1", Action.SELL, 90.0), now_s=1)  # 90 kEUR used
    again = make_proposal("r2", mwh=1000.0)
    paid = datetime(2027, 2, 22, tzinfo=UTC)  # the 20th is a Saturday: the Monday after
    book.settle(datetime(2027, 2, 1, tzinfo=UTC))  # delivered, not yet paid for
    book.settle(paid - timedelta(seconds=1))
    assert failures(config, book, again, now_s=2) == {"credit-limit"}
    book.settle(paid)
    assert failures(config, book, again, now_s=2) == set()


def test_a_long_delivery_frees_its_credit_month_by_month() -> None:
    config = make_config(credit_limit_eur=150_000.0, max_position_mwh=1e9)
    book = make_book(config)
    months = {bucket(f"2027-{m:02d}"): 100.0 for m in range(1, 13)}  # Cal-27, 1,200 MWh
    book.reserve(make_proposal("r1", mwh=1200.0, buckets_mwh=months), now_s=0)
    book.record_fill(Fill("r1", Action.SELL, 100.0), now_s=1)  # 10 kEUR a month
    name = make_rfq().requester_name
    assert book.credit_used_eur[name] == pytest.approx(120_000.0)
    book.settle(datetime(2027, 4, 20, tzinfo=UTC))  # January to March are paid for
    assert book.credit_used_eur[name] == pytest.approx(90_000.0)
    book.settle(datetime(2028, 1, 20, tzinfo=UTC))
    assert book.credit_used_eur == {}


def test_payment_dates_roll_over_the_year_and_weekends() -> None:
    assert payment_date("2027-12", 20) == datetime(2028, 1, 20, tzinfo=UTC)
    assert payment_date("2027-01", 5) == datetime(2027, 2, 5, tzinfo=UTC)
    assert payment_date("2026-05", 20) == datetime(2026, 6, 22, tzinfo=UTC)  # from a Saturday
    assert payment_date("2026-11", 20) == datetime(2026, 12, 21, tzinfo=UTC)  # from a Sunday


def test_trades_read_at_start_use_their_company_s_credit_until_paid_for() -> None:
    config = make_config(credit_limit_eur=150_000.0, max_position_mwh=1e9)
    book = make_book(config)
    name = make_rfq().requester_name  # what a trade names
    book.add_trade({BUCKET: 1000.0}, -1.0, name, 90.0)
    assert book.positions_mwh == {BUCKET: -1000.0}
    assert book.credit_used_eur == {name: 90_000.0}
    # Another requester id of the same company shares its credit; its limit is looked up by id.
    same_company = make_rfq(id="r2", requester_id="c-other")
    assert failures(config, book, make_proposal(rfq=same_company, mwh=1000.0)) == {"credit-limit"}
    book.settle(datetime(2027, 2, 22, tzinfo=UTC))
    assert book.credit_used_eur == {}
    assert failures(config, book, make_proposal(rfq=same_company, mwh=1000.0)) == set()


def test_a_rebuild_of_trades_replaces_positions_and_credit_and_only_while_nothing_is_open() -> None:
    config = make_config(max_position_mwh=1e9)
    book, rebuilt = make_book(config), make_book(config)
    name = make_rfq().requester_name
    book.add_trade({BUCKET: 500.0}, 1.0, name, 90.0)  # the part read before
    rebuilt.add_trade({BUCKET: 1000.0}, -1.0, name, 90.0)  # the whole, read again
    book.take_trades(rebuilt)
    assert book.positions_mwh == {BUCKET: -1000.0}  # replaced, not added to
    assert book.credit_used_eur == {name: 90_000.0}
    book.reserve(make_proposal(), now_s=0.0)
    assert book.quotes_open == 1
    with pytest.raises(ValueError, match="1 quote"):
        book.take_trades(rebuilt)  # a fill of the open quote would be counted twice, or not


def test_the_payment_day_is_a_day_every_month_has() -> None:
    with pytest.raises(ValueError, match="credit_payment_day"):
        make_config(credit_payment_day=31)


def test_repeated_fills_trip_the_throttle() -> None:
    config = make_config(max_open_quotes=100, max_position_mwh=1e9)
    book = make_book(config)
    for n in range(3):
        book.reserve(make_proposal(f"r{n}", mwh=1.0), now_s=n)
        book.record_fill(Fill(f"r{n}", Action.SELL, 90.0), now_s=n)
    assert failures(config, book, make_proposal("r9", mwh=1.0), now_s=10) == {"fill-throttle"}
    assert failures(config, book, make_proposal("r9", mwh=1.0), now_s=400) == set()


def test_two_way_quotes_are_checked_on_both_sides() -> None:
    config = make_config(max_position_mwh=1500.0)
    book = make_book(config)
    book.reserve(make_proposal("r1", mwh=1000.0), now_s=0)  # requester buys: we may go short
    two_way = make_rfq(id="r2", action=None, quote_type=QuoteType.TWO_WAY)
    p = make_proposal(rfq=two_way, prices=(87.0, 89.0), mwh=1000.0)
    assert failures(config, book, p) == {"position-limit"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["reserve", "fill", "release"]),
            st.integers(0, 5),
            st.sampled_from([Action.BUY, Action.SELL, None]),
            st.floats(1.0, 4000.0),
        ),
        max_size=40,
    )
)
def test_positions_never_exceed_the_limit_whatever_fills(
    steps: list[tuple[str, int, Action | None, float]],
) -> None:
    config = make_config(max_position_mwh=5000.0, max_open_quotes=100, max_quotes_per_minute=1000)
    config = config.model_copy(update={"fill_throttle_count": 1000, "credit_limit_eur": 1e12})
    book = make_book(config)
    quoted: dict[str, Proposal] = {}
    for n, (op, k, requester_side, mwh) in enumerate(steps):
        rfq_id = f"r{k}"
        if op == "reserve":
            two_way = requester_side is None
            rfq = make_rfq(
                id=rfq_id,
                action=requester_side,
                quote_type=QuoteType.TWO_WAY if two_way else QuoteType.ONE_WAY,
            )
            p = make_proposal(rfq=rfq, prices=(87.0, 89.0) if two_way else (89.0,), mwh=mwh)
            if check(config, book.view(p, now_s=n, curve_age_s=0), p).passed:
                book.reserve(p, now_s=n)
                quoted[rfq_id] = p
        elif op == "fill" and rfq_id in quoted:
            side = quoted[rfq_id].sides[n % len(quoted[rfq_id].sides)]
            book.record_fill(Fill(rfq_id, side, 89.0), now_s=n)
            del quoted[rfq_id]
        elif op == "release":
            book.release(rfq_id)
            quoted.pop(rfq_id, None)
        assert all(abs(v) <= 5000.0 + 1e-6 for v in book.positions_mwh.values())


@given(
    st.lists(
        st.tuples(st.floats(0, 5, allow_nan=False), st.floats(-500, 500, allow_nan=False)),
        max_size=60,
    ),
    st.floats(0.5, 20),
)
def test_the_mid_window_gives_the_extremes_of_exactly_the_window(
    steps: list[tuple[float, float]], window_s: float
) -> None:
    window, seen, now_s = MidWindow(), [], 0.0
    for gap_s, mid in steps:
        now_s += gap_s
        window.add(now_s, mid)
        seen.append((now_s, mid))
        inside = [m for t, m in seen if now_s - t <= window_s]
        assert window.range(now_s, window_s) == (min(inside), max(inside))
    later = now_s + window_s + 1
    assert window.range(later, window_s) is None


def _beyond(held_mwh: float, requester: Action, mwh: float, limit: float = 1000.0) -> Any:
    """check_positions on a book holding `held_mwh` in BUCKET (beyond a lowered `limit`)."""
    config = make_config(max_position_mwh=limit)
    p = make_proposal(rfq=make_rfq(action=requester), mwh=mwh)
    view = replace(
        make_book(config).view(p, now_s=0, curve_age_s=1), positions_mwh={BUCKET: held_mwh}
    )
    return check_positions(config, view, p)


@pytest.mark.parametrize(
    ("held", "requester", "mwh", "passed", "detail"),
    [
        # Short 1500 beyond a limit of 1000: we buy (the requester sells) 300, to -1200.
        (
            -1500.0,
            Action.SELL,
            300.0,
            True,
            "reduce-only: power/DE 2027-01 is -1500.0 MWh, beyond 1000.0; this quote reduces it to -1200.0",
        ),
        (
            -1500.0,
            Action.BUY,
            300.0,
            False,
            "reduce-only: power/DE 2027-01 is -1500.0 MWh, beyond 1000.0; this quote would grow it to -1800.0",
        ),
        (
            1500.0,
            Action.BUY,
            300.0,
            True,
            "reduce-only: power/DE 2027-01 is 1500.0 MWh, beyond 1000.0; this quote reduces it to 1200.0",
        ),
        (
            1500.0,
            Action.SELL,
            300.0,
            False,
            "reduce-only: power/DE 2027-01 is 1500.0 MWh, beyond 1000.0; this quote would grow it to 1800.0",
        ),
        (-1500.0, Action.SELL, 1000.0, True, "ok"),  # back inside the limit: a plain pass
        (
            -1500.0,
            Action.SELL,
            2800.0,
            False,
            "this quote would grow it to 1300.0",
        ),  # flipped beyond
        (0.0, Action.BUY, 1200.0, False, "power/DE 2027-01: -1200.0 MWh > 1000.0"),
    ],
)
def test_beyond_its_limit_a_position_is_reduce_only(
    held: float, requester: Action, mwh: float, passed: bool, detail: str
) -> None:
    result = _beyond(held, requester, mwh)
    assert result.passed is passed
    assert result.detail.endswith(detail)


def test_a_two_way_quote_beyond_the_limit_fails_on_its_growing_side() -> None:
    config = make_config(max_position_mwh=1000.0)
    two_way = make_rfq(action=None, quote_type=QuoteType.TWO_WAY)
    p = make_proposal(rfq=two_way, prices=(87.0, 89.0), mwh=100.0)
    view = replace(
        make_book(config).view(p, now_s=0, curve_age_s=1), positions_mwh={BUCKET: -1500.0}
    )
    result = check_positions(config, view, p)
    assert not result.passed
    assert "would grow it to -1600.0" in result.detail


@given(
    held=st.floats(-5000.0, 5000.0).filter(lambda x: abs(x) > 1000.0),
    requester=st.sampled_from([Action.BUY, Action.SELL]),
    mwh=st.floats(1.0, 8000.0),
)
def test_beyond_the_limit_reducing_quotes_pass_and_growing_ones_fail(
    held: float, requester: Action, mwh: float
) -> None:
    ours = requester.opposite
    after = held + mwh if ours is Action.BUY else held - mwh
    result = _beyond(held, requester, mwh)
    toward_zero = abs(after) < abs(held) and (after >= 0) == (held >= 0)
    assert result.passed is (abs(after) <= 1000.0 or toward_zero)
    if abs(after) > 1000.0:
        assert result.detail.startswith("reduce-only: ")
