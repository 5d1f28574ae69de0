"""Configuration of the curve source, and of what a plausible curve looks like."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from quoter.basics.frozen import Frozen
from quoter.domain.market import AREAS, Commodity


class CurveBand(Frozen):
    """Where a plausible series' prices lie, EUR/MWh: every price within [min, max], and the
    series' mean at least `min_mean_eur_mwh` (a curve in EUR/kWh has a mean near 0.05)."""

    min_eur_mwh: float = Field(description="no interval's price below this")
    max_eur_mwh: float = Field(description="no interval's price above this")
    min_mean_eur_mwh: float = Field(description="the mean over the whole series at least this")

    @model_validator(mode="after")
    def _ordered(self) -> CurveBand:
        if not self.min_eur_mwh < self.max_eur_mwh:
            raise ValueError("min_eur_mwh must be below max_eur_mwh")
        if not self.min_eur_mwh <= self.min_mean_eur_mwh < self.max_eur_mwh:
            raise ValueError("min_mean_eur_mwh must lie within [min_eur_mwh, max_eur_mwh)")
        return self


# Power: the day-ahead market's harmonised price limits (-500..4000 EUR/MWh); no forward hour
# lies outside them. Gas: three times the 2022 peak of the day-ahead hubs, and the same floor
# below zero as a few within-day trades have seen. A mean below 1 EUR/MWh is no European power
# or gas curve there has been: it is a file in EUR/kWh (prices / 1000).
DEFAULT_BANDS: dict[Commodity, CurveBand] = {
    Commodity.POWER: CurveBand(min_eur_mwh=-500.0, max_eur_mwh=4000.0, min_mean_eur_mwh=1.0),
    Commodity.GAS: CurveBand(min_eur_mwh=-100.0, max_eur_mwh=1000.0, min_mean_eur_mwh=1.0),
}


class CurvesConfig(Frozen):
    path: Path | None = Field(
        None, description="a curve file or folder; none means the built-in synthetic curves"
    )
    max_age_s: float = Field(36 * 3600.0, gt=0, description="older curves are stale")
    poll_interval_s: float = Field(5.0, gt=0, description="how often to look for changed files")
    synthetic_years: int = Field(
        3, ge=0, le=10, description="synthetic curves reach the end of this many years ahead"
    )
    synthetic_seed: int = Field(0, ge=0, description="seed of the synthetic curves")
    bands: dict[Commodity, CurveBand] = Field(
        default_factory=lambda: dict(DEFAULT_BANDS),
        description="the plausible band per commodity; a commodity not named keeps its default",
    )
    bands_by_area: dict[str, CurveBand] = Field(
        default_factory=dict, description="a band for one market area, over its commodity's"
    )
    max_jump_share: float = Field(
        0.5,
        gt=0,
        description="a reload whose monthly mean moved by more than this share of the last good "
        "version's (of at least 1 EUR/MWh) is refused, and the last good one kept",
    )
    max_as_of_ahead_s: float = Field(
        300.0, ge=0, description="an as_of later than now by more than this is refused"
    )

    @field_validator("bands")
    @classmethod
    def _defaults_kept(cls, bands: dict[Commodity, CurveBand]) -> dict[Commodity, CurveBand]:
        return {**DEFAULT_BANDS, **bands}

    @field_validator("bands_by_area")
    @classmethod
    def _areas_known(cls, bands: dict[str, CurveBand]) -> dict[str, CurveBand]:
        known = AREAS[Commodity.POWER] | AREAS[Commodity.GAS]
        unknown = sorted(set(bands) - known)
        if unknown:
            raise ValueError(f"unknown market areas: {', '.join(unknown)}")
        return bands

    def band_for(self, commodity: Commodity, area: str) -> CurveBand:
        return self.bands_by_area.get(area) or self.bands.get(commodity, DEFAULT_BANDS[commodity])
