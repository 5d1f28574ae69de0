"""Configuration of the curve source."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from quoter.venue.config import Frozen


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
