"""Wire JSON to domain values: liberal in form, strict in meaning; bad items set aside."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quoter.domain import Action, Load, ProductType, QuoteStatus, QuoteType, RfqStatus
from quoter.venue.errors import MalformedResponse
from quoter.venue.parse import (
    decode_json,
    parse_load_shape,
    parse_page,
    parse_quote,
    parse_rfq,
    parse_trade,
)
from tests.venue import payloads
from tests.venue.payloads import page, without


def test_the_contract_rfq_parses() -> None:
    rfq = parse_rfq(payloads.rfq())
    assert rfq.status is RfqStatus.OPEN
    assert rfq.action is Action.BUY
    assert rfq.quantity_mw == 10.0
    assert rfq.instrument.product_type is ProductType.YEAR
    assert rfq.quote_deadline == datetime(2026, 3, 2, 9, 25, tzinfo=UTC)
    assert rfq.requester_id == "c-123"


def test_any_offset_is_read_as_the_same_instant_and_extras_are_ignored() -> None:
    rfq = parse_rfq(payloads.rfq(quote_deadline="2026-03-02T10:25:00+01:00", surprise={"x": 1}))
    assert rfq.quote_deadline == datetime(2026, 3, 2, 9, 25, tzinfo=UTC)
    assert rfq.quote_deadline.tzinfo is UTC


def test_two_way_and_custom_rfqs() -> None:
    rfq = parse_rfq(
        payloads.rfq(
            quote_type="two-way",
            action=None,
            instrument={"load": "custom"},
            quantity={"ref": "/v2.2/rfqs/x/load-shape"},
        )
    )
    assert rfq.quote_type is QuoteType.TWO_WAY
    assert rfq.instrument.load is Load.CUSTOM
    assert rfq.shape_ref == "/v2.2/rfqs/x/load-shape"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (without(payloads.rfq(), "quote-deadline"), "quote-deadline: field required"),
        (payloads.rfq(quantity={"amount": {"value": "10"}}), "quantity.amount.value"),
        (payloads.rfq(quantity={"amount": {"value": float("nan")}}), "quantity.amount.value"),
        (payloads.rfq(quantity={"amount": {"value": float("inf")}}), "quantity.amount.value"),
        (payloads.rfq(quantity={"amount": {"value": 0}}), "quantity.amount.value"),
        (payloads.rfq(quantity={"amount": {"value": -5}}), "quantity.amount.value"),
        (payloads.rfq(quantity={"amount": {"unit": "MWh"}}), "quantity.amount.unit"),
        (payloads.rfq(quote_deadline="2026-03-02T09:25:00"), "quote-deadline"),
        (payloads.rfq(quote_deadline=1772443500), "quote-deadline"),
        (payloads.rfq(status="pending"), "status"),
        (payloads.rfq(pricing={"pricing-type": "index"}), "pricing.pricing-type"),
        (payloads.rfq(action=None), "action must be null exactly when"),
        (payloads.rfq(instrument={"maturity": {"end": "2026-01-01T00:00:00Z"}}), "maturity end"),
        (payloads.rfq(id=7), "id"),
        ([1, 2], "(item)"),
    ],
)
def test_malformed_rfqs_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(MalformedResponse, match="rfq: ") as caught:
        parse_rfq(raw)
    assert field in str(caught.value)


def test_a_bad_item_is_set_aside_and_the_page_stands() -> None:
    items = [
        payloads.rfq(id="a"),
        without(payloads.rfq(id="b"), "quote-deadline"),
        "junk",
        payloads.rfq(id="c"),
    ]
    result = parse_page(page(items, total=40), parse_rfq, max_items=100, limit=100, skip=0)
    assert [r.id for r in result.items] == ["a", "c"]
    assert result.total == 40
    assert [(r.index, r.item_id) for r in result.rejected] == [(1, "b"), (2, None)]
    assert result.rejected[0].reason == "quote-deadline: field required"


def test_a_quote_set_aside_keeps_its_ids_to_be_withdrawn_by() -> None:
    items = [
        without(payloads.quote(id="q-1", rfq_id="r-1"), "valid-until"),
        without(payloads.quote(id="q-2"), "rfq-id"),
    ]
    result = parse_page(page(items), parse_quote, max_items=100, limit=100, skip=0)
    assert [(r.item_id, r.rfq_id) for r in result.rejected] == [("q-1", "r-1"), ("q-2", None)]


def test_page_envelopes_are_checked() -> None:
    with pytest.raises(MalformedResponse, match="items"):
        parse_page({"total": 1}, parse_rfq, max_items=10, limit=10, skip=0)
    with pytest.raises(MalformedResponse, match="more than 2"):
        parse_page(page([{}, {}, {}]), parse_rfq, max_items=2, limit=2, skip=0)
    bare = parse_page({"items": []}, parse_rfq, max_items=10, limit=10, skip=20)
    assert (bare.total, bare.limit, bare.skip) == (20, 10, 20)


def test_quotes_and_trades_parse() -> None:
    quote = parse_quote(payloads.quote())
    assert quote.status is QuoteStatus.ACTIVE
    assert quote.price is not None
    assert quote.price.value == 87.35
    two_way = parse_quote(payloads.quote(price=None, bid={"value": 80}, ask={"value": 90}))
    assert two_way.bid is not None
    assert two_way.bid.value == 80.0
    trade = parse_trade(payloads.trade())
    assert trade.action is Action.SELL
    assert trade.instrument.product_type is ProductType.CUSTOM  # trades carry no product
    assert trade.price.value == 87.35
    with pytest.raises(MalformedResponse, match=r"price\.value"):
        parse_trade(payloads.trade(pricing={"price": {"value": None}}))


def test_a_24_25_load_shape_sums_the_repeated_march_instant() -> None:
    raw = {
        "resolution": "PT1H",
        "unit": "MW",
        "format": "24/25",
        "data": [
            {"interval-start": "2026-03-29T01:00:00+01:00", "quantity": {"value": 10}},
            {"interval-start": "2026-03-29T02:00:00+01:00", "quantity": {"value": 0}},
            {"interval-start": "2026-03-29T03:00:00+02:00", "quantity": {"value": 12.5}},
            {"interval-start": "2026-03-29T04:00:00+02:00", "quantity": {"value": 11}},
        ],
    }
    shape = parse_load_shape(raw)
    assert shape.resolution_s == 3600
    assert shape.volumes_mw == (10.0, 12.5, 11.0)
    assert shape.starts[1] == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_bad_load_shapes_are_refused() -> None:
    good = {"interval-start": "2026-01-01T00:00:00+01:00", "quantity": {"value": 1}}
    for raw in (
        {"resolution": "PT30M", "data": [good]},
        {"resolution": "PT1H", "data": []},
        {"resolution": "PT1H", "data": [{**good, "quantity": {"value": -1}}]},
        {"resolution": "PT1H", "data": [{**good, "interval-start": "2026-01-01T00:00:00"}]},
    ):
        with pytest.raises(MalformedResponse, match="loadshape"):
            parse_load_shape(raw)


def test_nan_and_infinity_in_a_body_reach_validation() -> None:
    raw = decode_json(b'{"value": NaN, "other": -Infinity}')
    assert isinstance(raw, dict)
    assert math.isnan(raw["value"])
    for body in (b"", b"{", b"\xff\xfe", b"<html>"):
        with pytest.raises(MalformedResponse, match="not JSON"):
            decode_json(body)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_any_json_is_parsed_or_refused_cleanly(raw: object) -> None:
    """Untrusted input never crashes the parser with anything but MalformedResponse."""
    for parse in (parse_rfq, parse_quote, parse_trade, parse_load_shape):
        with contextlib.suppress(MalformedResponse):
            parse(raw)
    with contextlib.suppress(MalformedResponse):
        parse_page(raw, parse_rfq, max_items=100, limit=100, skip=0)


def test_rfq_fields_can_be_mutated_one_at_a_time() -> None:
    """Dropping any one required leaf makes a clean, named refusal."""
    body = json.loads(json.dumps(payloads.rfq()))
    for key in [k for k in body if k not in ("_links", "my-quote-status")]:
        with pytest.raises(MalformedResponse, match=key):
            parse_rfq(without(body, key))
