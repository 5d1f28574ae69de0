"""What is traded: commodities, market areas, loads, products, delivery periods and load shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Commodity(StrEnum):
    POWER = "power"
    GAS = "gas"


class Load(StrEnum):
    BASE = "base"
    PEAK = "peak"
    OFF_PEAK = "off-peak"
    CUSTOM = "custom"


class ProductType(StrEnum):
    DAY = "day"
    WEEKEND = "weekend"
    WEEK = "week"
    BALANCE_OF_MONTH = "balance-of-month"
    MONTH = "month"
    QUARTER = "quarter"
    SEASON = "season"
    GAS_YEAR = "gas-year"
    YEAR = "year"
    CUSTOM = "custom"


class Action(StrEnum):
    """On an RFQ the requester's side; on a trade our side."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Action:
        return Action.SELL if self is Action.BUY else Action.BUY


POWER_AREAS: frozenset[str] = frozenset({"DE", "AT", "FR", "NL", "BE", "CH"})
GAS_AREAS: frozenset[str] = frozenset({"THE", "TTF", "PEG", "CEGH-VTP", "PSV", "ZTP"})
AREAS: dict[Commodity, frozenset[str]] = {Commodity.POWER: POWER_AREAS, Commodity.GAS: GAS_AREAS}
# Every area keeps Central European Time (pricing/calendar.py computes its offsets by rule).
MARKET_TIMEZONE = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True, slots=True)
class Instrument:
    """A delivery: commodity and area, load, and the period [start, end) as UTC instants."""

    commodity: Commodity
    market_area: str
    load: Load
    settlement: str
    start: datetime
    end: datetime
    product_type: ProductType
    product_label: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("maturity start and end must carry a UTC offset")
        if self.end <= self.start:
            raise ValueError(f"maturity end {self.end} is not after start {self.start}")
        if self.commodity is Commodity.GAS and self.load not in (Load.BASE, Load.CUSTOM):
            raise ValueError(f"gas is delivered base, not {self.load}")


@dataclass(frozen=True, slots=True)
class LoadShape:
    """The volumes of a custom RFQ: one entry per delivery instant, summed where the venue repeats
    an instant (the `24/25` format writes the missing March hour as a zero on the same instant)."""

    resolution_s: int
    starts: tuple[datetime, ...]
    volumes_mw: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.resolution_s not in (900, 3600):
            raise ValueError(f"resolution must be PT15M or PT1H, got {self.resolution_s} s")
        if len(self.starts) != len(self.volumes_mw):
            raise ValueError("a load shape needs one volume per interval")
        if not self.starts:
            raise ValueError("a load shape has no intervals")
        if any(not math.isfinite(v) or v < 0 for v in self.volumes_mw):
            raise ValueError("load shape volumes must be finite and not negative")
        if any(b <= a for a, b in zip(self.starts, self.starts[1:], strict=False)):
            raise ValueError("load shape instants must be strictly increasing after summing")
