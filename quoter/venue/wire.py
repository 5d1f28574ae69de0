"""The venue's JSON, validated: kebab-case wire models that turn into frozen domain values.

Liberal in what is accepted (unknown fields ignored, any UTC offset, optional product on a trade),
strict in what it means: numbers finite and never strings, quantities positive in MW, timestamps
strings with an offset. A malformed item of a list is set aside with the field that failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    MyQuoteStatus,
    Price,
    ProductType,
    Quote,
    QuoteStatus,
    QuoteType,
    Rfq,
    RfqStatus,
    Trade,
)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _text_only(value: object) -> object:
    """Timestamps travel as ISO strings; a bare number is not read as epoch seconds."""
    if not isinstance(value, str):
        raise ValueError("timestamp must be an ISO 8601 string")
    return value


Finite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
PositiveMw = Annotated[float, Strict(), Field(allow_inf_nan=False, gt=0)]
Count = Annotated[int, Strict(), Field(ge=0)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Href = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Instant = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=_kebab)


class WirePrice(Wire):
    value: Finite
    currency: Text = "EUR"

    def domain(self) -> Price:
        return Price(self.value, self.currency)


class WireAmount(Wire):
    value: PositiveMw
    unit: Literal["MW"]


class WireQuantity(Wire):
    amount: WireAmount
    ref: Href | None = None


class WireMaturity(Wire):
    start: Instant
    end: Instant


class WireProduct(Wire):
    type: ProductType
    label: Annotated[str, StringConstraints(max_length=200)] = ""


class WireInstrument(Wire):
    commodity: Commodity
    market_area: Text
    load: Load
    settlement: Text
    maturity: WireMaturity
    product: WireProduct | None = None

    def domain(self) -> Instrument:
        product = self.product or WireProduct(type=ProductType.CUSTOM)
        return Instrument(
            commodity=self.commodity,
            market_area=self.market_area,
            load=self.load,
            settlement=self.settlement,
            start=utc(self.maturity.start),
            end=utc(self.maturity.end),
            product_type=product.type,
            product_label=product.label,
        )


class WireRequesterCompany(Wire):
    id: Text
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class WireRequester(Wire):
    company: WireRequesterCompany


class WireRfqPricing(Wire):
    pricing_type: Literal["fixed"]
    currency: Text


class WireRfq(Wire):
    id: Text
    short_id: Text
    venue: Text
    status: RfqStatus
    created_at: Instant
    updated_at: Instant
    quote_deadline: Instant
    requester: WireRequester
    action: Action | None
    quote_type: QuoteType
    instrument: WireInstrument
    quantity: WireQuantity
    pricing: WireRfqPricing
    my_quote_status: MyQuoteStatus = MyQuoteStatus.NOT_QUOTED

    def domain(self) -> Rfq:
        return Rfq(
            id=self.id,
            short_id=self.short_id,
            venue=self.venue,
            status=self.status,
            created_at=utc(self.created_at),
            updated_at=utc(self.updated_at),
            quote_deadline=utc(self.quote_deadline),
            requester_id=self.requester.company.id,
            requester_name=self.requester.company.name,
            action=self.action,
            quote_type=self.quote_type,
            instrument=self.instrument.domain(),
            quantity_mw=self.quantity.amount.value,
            shape_ref=self.quantity.ref,
            currency=self.pricing.currency,
            my_quote_status=self.my_quote_status,
        )


class WireQuote(Wire):
    id: Text
    rfq_id: Text
    client_quote_id: Text
    status: QuoteStatus
    price: WirePrice | None = None
    bid: WirePrice | None = None
    ask: WirePrice | None = None
    valid_until: Instant
    created_at: Instant
    updated_at: Instant

    def domain(self) -> Quote:
        return Quote(
            id=self.id,
            rfq_id=self.rfq_id,
            client_quote_id=self.client_quote_id,
            status=self.status,
            price=None if self.price is None else self.price.domain(),
            bid=None if self.bid is None else self.bid.domain(),
            ask=None if self.ask is None else self.ask.domain(),
            valid_until=utc(self.valid_until),
            created_at=utc(self.created_at),
            updated_at=utc(self.updated_at),
        )


class WireCounterpartyCompany(Wire):
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class WireCounterparty(Wire):
    company: WireCounterpartyCompany


class WireTradePricing(Wire):
    price: WirePrice


class WireTrade(Wire):
    id: Text
    short_id: Text
    action: Action
    traded_at: Instant
    venue: Text
    rfq_id: Text
    quote_id: Text
    instrument: WireInstrument
    quantity: WireQuantity
    pricing: WireTradePricing
    counterparty: WireCounterparty

    def domain(self) -> Trade:
        return Trade(
            id=self.id,
            short_id=self.short_id,
            action=self.action,
            traded_at=utc(self.traded_at),
            venue=self.venue,
            rfq_id=self.rfq_id,
            quote_id=self.quote_id,
            instrument=self.instrument.domain(),
            quantity_mw=self.quantity.amount.value,
            price=self.pricing.price.domain(),
            counterparty_name=self.counterparty.company.name,
            product_named=self.instrument.product is not None,
        )


class WireShapePoint(Wire):
    interval_start: Instant
    quantity: WireShapeVolume


class WireShapeVolume(Wire):
    value: Annotated[float, Strict(), Field(allow_inf_nan=False, ge=0)]


# A two-year shape at quarter hours has ~70,000 points; more is not a load shape.
MAX_SHAPE_POINTS = 200_000


class WireLoadShape(Wire):
    resolution: Literal["PT1H", "PT15M"]
    unit: Literal["MW"] = "MW"
    format: Literal["23/25", "24/25"] | None = None
    data: Annotated[list[WireShapePoint], Field(min_length=1, max_length=MAX_SHAPE_POINTS)]


WireShapePoint.model_rebuild()


class WireEnvelope(Wire):
    """A list answer; `total`, `limit` and `skip` are optional (the contract assumes them)."""

    items: list[object]
    total: Count | None = None
    limit: Count | None = None
    skip: Count | None = None


def utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)
