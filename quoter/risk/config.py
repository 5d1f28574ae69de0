"""The desk's limits. Every limit must be stated: a configuration without one refuses to start."""

from __future__ import annotations

from pydantic import Field, model_validator

from quoter.domain.market import AREAS, Commodity, Load, ProductType
from quoter.venue.config import Frozen


class CollarConfig(Frozen):
    """How far a quote may stand from the curve mid, and how far the mid may drift in a window."""

    max_distance_eur_mwh: float = Field(gt=0, description="|price - mid| at most this")
    max_drift_eur_mwh: float = Field(gt=0, description="mid move of one product within the window")
    drift_window_s: float = Field(gt=0)


class RiskConfig(Frozen):
    """Every limit is required: there are no silent defaults for limits (only for how long a
    delivered trade still counts as exposure)."""

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
    credit_settlement_days: float = Field(
        20.0,
        ge=0,
        description="a fill counts against its counterparty's credit, whole, until this many "
        "days after its delivery ends, when it has been paid for (EFET invoices monthly and "
        "pays about the 20th of the month after; a long delivery is not freed month by month)",
    )
    allowed_areas: frozenset[str]
    allowed_loads: frozenset[Load]
    allowed_products: frozenset[ProductType]
    max_curve_age_s: float = Field(gt=0)
    fill_throttle_count: int = Field(gt=0, description="this many fills inside the window halt")
    fill_throttle_window_s: float = Field(gt=0)

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
