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
