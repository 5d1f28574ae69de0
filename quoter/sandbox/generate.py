"""Drawing RFQs: a full specification (`RfqSpec`) turned into a stored RFQ with seeded ids and
competition, and random specifications for the simulated market's arrivals."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    MyQuoteStatus,
    ProductType,
    QuoteType,
    Rfq,
    RfqStatus,
)
from quoter.pricing.calendar import MARKET_TIMEZONE
from quoter.sandbox.config import MarketConfig
from quoter.sandbox.products import has_peak_hours, standard_instrument
from quoter.sandbox.records import ShapeFormat, ShapeSpec, SimRfq, floor_ms, new_short_id, new_uuid
from quoter.sandbox.reference import ReferencePrice
from quoter.sandbox.shapes import domain_shape

REQUESTERS: tuple[tuple[str, str], ...] = (
    ("c-123", "Stadtwerke Beispiel GmbH"),
    ("c-207", "Stadtwerke Musterstadt AG"),
    ("c-311", "Energieversorgung Nordhafen GmbH"),
    ("c-415", "Papierfabrik Oberland KG"),
    ("c-502", "Régie d'électricité de Valmont"),
    ("c-618", "Gemeentelijk Energiebedrijf Delfhaven B.V."),
    ("c-733", "Chemiepark Rheinau GmbH"),
    ("c-847", "Alpenstrom Handel AG"),
)
POWER_AREAS = (("DE", 5), ("FR", 2.5), ("NL", 2.5))
GAS_AREAS = (("THE", 6), ("TTF", 4))
PRODUCTS = (
    (ProductType.DAY, 25),
    (ProductType.WEEKEND, 8),
    (ProductType.WEEK, 10),
    (ProductType.BALANCE_OF_MONTH, 7),
    (ProductType.MONTH, 20),
    (ProductType.QUARTER, 12),
    (ProductType.SEASON, 8),
    (ProductType.YEAR, 10),
)
SHAPED_PRODUCTS = frozenset(
    {ProductType.DAY, ProductType.WEEKEND, ProductType.WEEK, ProductType.MONTH}
)
T = TypeVar("T")
QUANTITIES_MW = (1, 2, 3, 5, 5, 10, 10, 10, 15, 20, 25, 30, 40, 50)


@dataclass(frozen=True, slots=True)
class RfqSpec:
    """Everything that makes an RFQ. `competitor_price`: a fixed best competing price, None for
    no competitor; `draw_competition` draws the competing dealers around the reference price."""

    instrument: Instrument
    quote_type: QuoteType
    action: Action | None
    requester_side: Action
    quantity_mw: float
    shape: tuple[int, ShapeFormat] | None
    deadline: datetime
    requester: tuple[str, str]
    cancel_at: datetime | None = None
    competitor_price: float | None = None
    draw_competition: bool = True


def _weighted(rng: random.Random, options: tuple[tuple[T, float], ...]) -> T:
    chosen: T = rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]
    return chosen


def _competition(
    rng: random.Random, reference_eur_mwh: float, dealers: int
) -> tuple[float | None, float | None]:
    """The best bid and ask among `dealers` competing dealers quoting around the reference."""
    if dealers == 0:
        return None, None
    bids, asks = [], []
    for _ in range(dealers):
        mid = reference_eur_mwh + abs(reference_eur_mwh) * rng.gauss(0.0, 0.01)
        half_spread = abs(reference_eur_mwh) * rng.uniform(0.004, 0.015) + 0.05
        bids.append(mid - half_spread)
        asks.append(mid + half_spread)
    return round(max(bids), 3), round(min(asks), 3)


def build_rfq(
    spec: RfqSpec, rng: random.Random, now: datetime, reference: ReferencePrice, dealers: int
) -> SimRfq:
    rfq_id = new_uuid(rng)
    shape = (
        None if spec.shape is None else ShapeSpec(spec.shape[0], spec.shape[1], rng.getrandbits(32))
    )
    if spec.draw_competition:
        load_shape = (
            None if shape is None else domain_shape(shape, spec.instrument, spec.quantity_mw)
        )
        best_bid, best_ask = _competition(rng, reference(spec.instrument, load_shape), dealers)
    else:
        best_bid = best_ask = spec.competitor_price
    created = floor_ms(now)
    rfq = Rfq(
        id=rfq_id,
        short_id=new_short_id(rng, "RQ"),
        venue="entender",
        status=RfqStatus.OPEN,
        created_at=created,
        updated_at=created,
        quote_deadline=floor_ms(spec.deadline),
        requester_id=spec.requester[0],
        requester_name=spec.requester[1],
        action=spec.action,
        quote_type=spec.quote_type,
        instrument=spec.instrument,
        quantity_mw=spec.quantity_mw,
        shape_ref=None if shape is None else f"/rfqs/{rfq_id}/load-shape",
        currency="EUR",
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )
    cancel_at = None if spec.cancel_at is None else floor_ms(spec.cancel_at)
    return SimRfq(rfq, shape, best_bid, best_ask, spec.requester_side, cancel_at)


def _random_instrument(rng: random.Random, now: datetime, config: MarketConfig) -> Instrument:
    today = now.astimezone(MARKET_TIMEZONE).date()
    commodity = Commodity.GAS if rng.random() < 0.3 else Commodity.POWER
    custom = commodity is Commodity.POWER and rng.random() < config.custom_share
    products = tuple(p for p in PRODUCTS if p[0] in SHAPED_PRODUCTS) if custom else PRODUCTS
    product = _weighted(rng, products)
    ahead = {ProductType.MONTH: rng.randint(1, 3), ProductType.QUARTER: rng.randint(1, 2)}.get(
        product, 1
    )
    if commodity is Commodity.GAS:
        area = _weighted(rng, GAS_AREAS)
        if product is ProductType.SEASON and rng.random() < 0.3:
            product = ProductType.GAS_YEAR
        return standard_instrument(commodity, area, Load.BASE, product, today, ahead)
    area = _weighted(rng, POWER_AREAS)
    load = Load.CUSTOM if custom else Load.PEAK if rng.random() < 0.3 else Load.BASE
    if load is Load.PEAK and not has_peak_hours(product, today, ahead):
        load = Load.BASE
    return standard_instrument(commodity, area, load, product, today, ahead)


def random_spec(rng: random.Random, now: datetime, config: MarketConfig) -> RfqSpec:
    instrument = _random_instrument(rng, now, config)
    two_way = rng.random() < config.two_way_share
    side = Action.BUY if rng.random() < 0.5 else Action.SELL
    deadline = now + timedelta(
        seconds=round(rng.uniform(config.deadline_min_s, config.deadline_max_s))
    )
    cancel_at = None
    if rng.random() < config.cancel_share:
        cancel_at = now + (deadline - now) * rng.uniform(0.2, 0.9)
    shape = None
    if instrument.load is Load.CUSTOM:
        resolution = 900 if rng.random() < 0.3 else 3600
        shape = (resolution, rng.choice((ShapeFormat.F23_25, ShapeFormat.F24_25)))
    return RfqSpec(
        instrument=instrument,
        quote_type=QuoteType.TWO_WAY if two_way else QuoteType.ONE_WAY,
        action=None if two_way else side,
        requester_side=side,
        quantity_mw=float(rng.choice(QUANTITIES_MW)),
        shape=shape,
        deadline=deadline,
        requester=rng.choice(REQUESTERS),
        cancel_at=cancel_at,
    )


def random_dealers(rng: random.Random, config: MarketConfig) -> int:
    return 0 if rng.random() < config.no_competitor_share else rng.randint(1, 4)
