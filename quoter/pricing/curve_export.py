"""Writing a `CurveSet` in the export format of docs/curve-format.md (CSV or Parquet), so that
`curve_files.load_curve_set` reads back the same prices, grid and as_of."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from quoter.pricing.curve import CurveError, CurveSeries, SeriesKey


def curve_frame(curve_set: Mapping[SeriesKey, CurveSeries]) -> pd.DataFrame:
    """The long-format rows of a curve set, series by series, with tz-aware UTC timestamps."""
    parts = []
    for key in sorted(curve_set):
        s = curve_set[key]
        starts_s = s.start_s + s.step_s * np.arange(s.prices.size, dtype=np.int64)
        parts.append(
            pd.DataFrame(
                {
                    "commodity": str(s.commodity),
                    "market_area": s.market_area,
                    "start": pd.to_datetime(starts_s, unit="s", utc=True).as_unit("s"),
                    "price": s.prices,
                    "as_of": pd.Timestamp(s.as_of).tz_convert("UTC").as_unit("us"),
                }
            )
        )
    if not parts:
        raise CurveError("there are no series to write")
    return pd.concat(parts, ignore_index=True)


def write_curve_set(curve_set: Mapping[SeriesKey, CurveSeries], path: Path) -> None:
    """Write a curve set as CSV (ISO timestamps in UTC, `Z`) or Parquet, by the suffix of `path`;
    reading the file back gives the same prices, grid and as_of."""
    frame = curve_frame(curve_set)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        for column in ("start", "as_of"):
            frame[column] = (
                frame[column]
                .dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                .str.replace(".000000Z", "Z", regex=False)
            )
        frame.to_csv(path, index=False, float_format=None)
    else:
        raise CurveError(f"{path}: write .csv or .parquet")
