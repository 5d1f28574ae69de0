"""The body of `POST /_sandbox/rfqs`: optional overrides in the RFQ's own wire shape, plus a few
sandbox-only keys, on top of fixed defaults (power DE base day-ahead, one-way, the requester
buys 10 MW, deadline in 5 minutes, competing dealers drawn around the reference price)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from quoter.domain import Action, Commodity, Instrument, Load, ProductType, QuoteType
from quoter.domain.market import AREAS
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.sandbox import jsonfields as fields
from quoter.sandbox.generate import REQUESTERS, RfqSpec
from quoter.sandbox.products import standard_instrument
from quoter.sandbox.records import ShapeFormat
from quoter.sandbox.shapes import RESOLUTIONS

RFQ_KEYS = frozenset(
    {
        "instrument",
        "quote-type",
        "action",
        "quote-deadline",
        "quantity",
        "requester",
        "load-shape",
        "competitor-price",
        "requester-side",
        "cancel-after-s",
    }
)
INSTRUMENT_KEYS = frozenset(
    {"commodity", "market-area", "load", "settlement", "maturity", "product"}
)
DEFAULT_DEADLINE_S = 300.0
DEFAULT_QUANTITY_MW = 10.0
MAX_QUANTITY_MW = 10_000.0


def _enum_value(
    body: Mapping[str, object],
    key: str,
    where: str,
    kind: type[StrEnum],
) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    return fields.choice(value, where, [member.value for member in kind])


def _instrument(raw: object, now: datetime) -> Instrument:
    body = fields.obj(raw if raw is not None else {}, "instrument", INSTRUMENT_KEYS)
    commodity = Commodity(
        _enum_value(body, "commodity", "instrument.commodity", Commodity) or "power"
    )
    default_area = "DE" if commodity is Commodity.POWER else "THE"
    area = fields.choice(
        body.get("market-area", default_area), "instrument.market-area", AREAS[commodity]
    )
    load = Load(_enum_value(body, "load", "instrument.load", Load) or "base")
    if commodity is Commodity.GAS and load is not Load.BASE:
        raise fields.FieldError("gas is always delivered base")
    product = fields.obj(body.get("product") or {}, "instrument.product", {"type", "label"})
    product_type = _enum_value(product, "type", "instrument.product.type", ProductType)
    maturity = body.get("maturity")
    if maturity is None:
        chosen = ProductType(product_type or "day")
        today = now.astimezone(MARKET_TIMEZONE).date()
        instrument = standard_instrument(commodity, area, load, chosen, today)
    else:
        span = fields.obj(maturity, "instrument.maturity", {"start", "end"})
        instrument = Instrument(
            commodity=commodity,
            market_area=area,
            load=load,
            settlement="physical",
            start=fields.instant(span.get("start"), "instrument.maturity.start"),
            end=fields.instant(span.get("end"), "instrument.maturity.end"),
            product_type=ProductType(product_type or "custom"),
            product_label="Custom",
        )
    label = product.get("label")
    settlement = body.get("settlement", "physical")
    return Instrument(
        commodity=instrument.commodity,
        market_area=instrument.market_area,
        load=instrument.load,
        settlement=fields.text(settlement, "instrument.settlement", 20),
        start=instrument.start,
        end=instrument.end,
        product_type=instrument.product_type,
        product_label=instrument.product_label
        if label is None
        else fields.text(label, "instrument.product.label"),
    )


def _quantity(raw: object) -> float:
    if raw is None:
        return DEFAULT_QUANTITY_MW
    body = fields.obj(raw, "quantity", {"amount", "ref"})
    amount = fields.obj(body.get("amount"), "quantity.amount", {"value", "unit"})
    if amount.get("unit", "MW") != "MW":
        raise fields.FieldError("quantity.amount.unit must be MW")
    value = fields.number(amount.get("value"), "quantity.amount.value")
    if not 0 < value <= MAX_QUANTITY_MW:
        raise fields.FieldError(f"quantity.amount.value must be within (0, {MAX_QUANTITY_MW:g}]")
    return value


def _shape(raw: object, load: Load) -> tuple[int, ShapeFormat] | None:
    if load is not Load.CUSTOM:
        if raw is not None:
            raise fields.FieldError("load-shape goes with a custom load only")
        return None
    body = fields.obj(raw if raw is not None else {}, "load-shape", {"resolution", "format"})
    resolution = fields.choice(body.get("resolution", "PT1H"), "load-shape.resolution", RESOLUTIONS)
    shape_format = fields.choice(
        body.get("format", "23/25"), "load-shape.format", [f.value for f in ShapeFormat]
    )
    return RESOLUTIONS[resolution], ShapeFormat(shape_format)


def _sides(body: Mapping[str, object]) -> tuple[QuoteType, Action | None, Action]:
    quote_type = QuoteType(_enum_value(body, "quote-type", "quote-type", QuoteType) or "one-way")
    action_raw = _enum_value(body, "action", "action", Action)
    hidden_raw = _enum_value(body, "requester-side", "requester-side", Action)
    if quote_type is QuoteType.TWO_WAY:
        if action_raw is not None:
            raise fields.FieldError("a two-way RFQ has no action (set requester-side instead)")
        return quote_type, None, Action(hidden_raw or "buy")
    action = Action(action_raw or "buy")
    if hidden_raw is not None and hidden_raw != action.value:
        raise fields.FieldError("on a one-way RFQ the requester-side is its action")
    return quote_type, action, action


def _requester(raw: object) -> tuple[str, str]:
    if raw is None:
        return REQUESTERS[0]
    company = fields.obj(
        fields.obj(raw, "requester", {"company"}).get("company"),
        "requester.company",
        {"id", "name"},
    )
    return fields.text(company.get("id"), "requester.company.id"), fields.text(
        company.get("name"), "requester.company.name"
    )


def parse_rfq_overrides(raw: object, now: datetime) -> RfqSpec:
    """The RFQ asked for; raises FieldError (or ValueError from the domain) when it cannot be."""
    body = fields.obj(raw, "the RFQ", RFQ_KEYS)
    instrument = _instrument(body.get("instrument"), now)
    quote_type, action, requester_side = _sides(body)
    deadline_raw = body.get("quote-deadline")
    deadline = now + timedelta(seconds=DEFAULT_DEADLINE_S)
    if deadline_raw is not None:
        deadline = fields.instant(deadline_raw, "quote-deadline")
    if deadline <= now:
        raise fields.FieldError("quote-deadline must be in the future")
    cancel_at = None
    if body.get("cancel-after-s") is not None:
        cancel_s = fields.number(body.get("cancel-after-s"), "cancel-after-s")
        if cancel_s <= 0:
            raise fields.FieldError("cancel-after-s must be positive")
        cancel_at = now + timedelta(seconds=cancel_s)
    fixed = "competitor-price" in body
    competitor = body.get("competitor-price")
    return RfqSpec(
        instrument=instrument,
        quote_type=quote_type,
        action=action,
        requester_side=requester_side,
        quantity_mw=_quantity(body.get("quantity")),
        shape=_shape(body.get("load-shape"), instrument.load),
        deadline=deadline,
        requester=_requester(body.get("requester")),
        cancel_at=cancel_at,
        competitor_price=None
        if competitor is None
        else fields.number(competitor, "competitor-price"),
        draw_competition=not fixed,
    )
