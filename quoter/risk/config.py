"""The desk's limits. Every limit must be stated: a configuration without one refuses to start."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from quoter.basics.frozen import Frozen
from quoter.domain.market import AREAS, Commodity, Load, ProductType


class CollarConfig(Frozen):
    """How far a quote may stand from the curve mid, and how far the mid may drift in a window."""

    max_distance_eur_mwh: float = Field(gt=0, description="|price - mid| at most this")
    max_drift_eur_mwh: float = Field(gt=0, description="mid move of one product within the window")
    drift_window_s: float = Field(gt=0)


class PriceBand(Frozen):
    """The prices a quote may carry at all, EUR/MWh, whatever the curve and strategy say."""

    min_eur_mwh: float
    max_eur_mwh: float

    @model_validator(mode="after")
    def _ordered(self) -> PriceBand:
        if not self.min_eur_mwh < self.max_eur_mwh:
            raise ValueError("min_eur_mwh must be below max_eur_mwh")
        return self


# The one limit with a default: a fat-finger backstop set to the day-ahead market's own price
# limits for power, and to three times the 2022 peak for gas; a desk states a tighter one.
DEFAULT_PRICE_BANDS: dict[Commodity, PriceBand] = {
    Commodity.POWER: PriceBand(min_eur_mwh=-500.0, max_eur_mwh=4000.0),
    Commodity.GAS: PriceBand(min_eur_mwh=-100.0, max_eur_mwh=1000.0),
}


class RiskConfig(Frozen):
    """Every limit is required: there are no silent defaults for limits (only for when a
    delivered month is paid for)."""

    collar: CollarConfig
    collar_by_product: dict[ProductType, CollarConfig] = Field(
        default_factory=dict, description="tighter or looser collars per product type"
    )
    max_volume_mw: float = Field(gt=0)
    max_notional_eur: float = Field(gt=0, description="price x energy of one quote")
    max_open_quotes: int = Field(gt=0, description="live quotes, in-flight ones included")
    max_quotes_per_minute: int = Field(gt=0)
    max_position_mwh: float = Field(gt=0, description="|position| per delivery bucket after a fill")
    credit_limit_eur: float = Field(gt=0, description="default exposure per counterparty")
    credit_limit_by_counterparty_eur: dict[str, float] = Field(default_factory=dict)
    credit_payment_day: int = Field(
        20,
        ge=1,
        le=28,
        description="each month of a fill's delivery is paid for on this day (00:00 UTC) of the "
        "next month, as EFET's monthly invoicing has it; until then that month's energy counts "
        "against the counterparty's credit",
    )
    allowed_areas: frozenset[str]
    allowed_loads: frozenset[Load]
    allowed_products: frozenset[ProductType]
    max_curve_age_s: float = Field(gt=0)
    fill_throttle_count: int = Field(gt=0, description="this many fills inside the window halt")
    fill_throttle_window_s: float = Field(gt=0)
    price_band_eur_mwh: dict[Commodity, PriceBand] = Field(
        default_factory=lambda: dict(DEFAULT_PRICE_BANDS),
        description="no quote's price outside this band per commodity, whatever the curve and "
        "strategy say; a commodity not named keeps its default",
    )

    @field_validator("price_band_eur_mwh")
    @classmethod
    def _bands_kept(cls, bands: dict[Commodity, PriceBand]) -> dict[Commodity, PriceBand]:
        return {**DEFAULT_PRICE_BANDS, **bands}

    @model_validator(mode="after")
    def _areas_known(self) -> RiskConfig:
        known = AREAS[Commodity.POWER] | AREAS[Commodity.GAS]
        unknown = sorted(self.allowed_areas - known)
        if unknown:
            raise ValueError(f"allowed_areas has unknown areas: {', '.join(unknown)}")
        if any(v <= 0 for v in self.credit_limit_by_counterparty_eur.values()):
            raise ValueError("credit limits per counterparty must be positive")
        return self

    def collar_for(self, product: ProductType) -> CollarConfig:
        return self.collar_by_product.get(product, self.collar)


# The demo's limits: generous enough to quote the sandbox's market, tight enough to matter.
DEMO_RISK = RiskConfig(
    collar=CollarConfig(max_distance_eur_mwh=15.0, max_drift_eur_mwh=10.0, drift_window_s=300.0),
    max_volume_mw=50.0,
    max_notional_eur=50_000_000.0,
    max_open_quotes=40,
    max_quotes_per_minute=60,
    max_position_mwh=500_000.0,
    credit_limit_eur=200_000_000.0,
    allowed_areas=AREAS[Commodity.POWER] | AREAS[Commodity.GAS],
    allowed_loads=frozenset(Load),
    allowed_products=frozenset(ProductType),
    max_curve_age_s=36 * 3600.0,
    fill_throttle_count=50,
    fill_throttle_window_s=60.0,
)
