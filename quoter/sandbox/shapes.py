"""Load shapes of custom RFQs: seeded volumes over the delivery, and their wire form in the two
published formats. `23/25` lists real intervals only; `24/25` also writes the March hour that
does not exist, as `02:00+01:00` with volume 0 (the same instant as the `03:00+02:00` after it)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from quoter.domain import Instrument, LoadShape
from quoter.pricing.calendar import HOUR_S, grid, local_seconds, utc_offsets_s
from quoter.sandbox.records import ShapeFormat, ShapeSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
RESOLUTIONS = {"PT1H": 3600, "PT15M": 900}
MAX_INTERVALS = 40_000  # a month in quarter hours is 2,976; a year in hours 8,784
Entry = dict[str, object]


def intervals(instrument: Instrument, resolution_s: int) -> IntArray:
    starts = grid(int(instrument.start.timestamp()), int(instrument.end.timestamp()), resolution_s)
    if starts.size > MAX_INTERVALS:
        raise ValueError(f"a load shape of {starts.size} intervals is too long")
    return starts


def volumes(spec: ShapeSpec, instrument: Instrument, amount_mw: float) -> FloatArray:
    """A daily profile with noise, scaled so that its mean is `amount_mw` (to 3 decimals)."""
    starts = intervals(instrument, spec.resolution_s)
    rng = np.random.default_rng(spec.seed)
    local_hour = (local_seconds(starts) % 86400) / HOUR_S
    profile = 1.0 + 0.35 * np.sin(2 * np.pi * (local_hour - 8.0) / 24.0)
    profile = np.clip(profile + rng.normal(0.0, 0.08, starts.size), 0.05, None)
    scaled: FloatArray = np.round(amount_mw * profile / profile.mean(), 3)
    return scaled


def domain_shape(spec: ShapeSpec, instrument: Instrument, amount_mw: float) -> LoadShape:
    starts = intervals(instrument, spec.resolution_s)
    values = volumes(spec, instrument, amount_mw)
    return LoadShape(
        resolution_s=spec.resolution_s,
        starts=tuple(datetime.fromtimestamp(int(s), UTC) for s in starts),
        volumes_mw=tuple(float(v) for v in values),
    )


def _local_iso(instant_s: int, offset_s: int) -> str:
    wall = datetime.fromtimestamp(instant_s + offset_s, UTC).replace(tzinfo=None)
    hours, rest = divmod(offset_s, HOUR_S)
    return f"{wall.isoformat()}{'+' if offset_s >= 0 else '-'}{abs(hours):02d}:{rest // 60:02d}"


def _entry(instant_s: int, offset_s: int, value: float) -> Entry:
    return {"interval-start": _local_iso(instant_s, offset_s), "quantity": {"value": value}}


def load_shape_json(spec: ShapeSpec, instrument: Instrument, amount_mw: float) -> Entry:
    starts = intervals(instrument, spec.resolution_s)
    values = volumes(spec, instrument, amount_mw)
    offsets = utc_offsets_s(starts)
    offsets_before = utc_offsets_s(starts - 1)
    data: list[Entry] = []
    for i, start in enumerate(starts.tolist()):
        offset, offset_before = int(offsets[i]), int(offsets_before[i])
        if spec.format is ShapeFormat.F24_25 and offset > offset_before:
            # The missing local hour, on the old offset: same instants as the hour after it.
            data.extend(
                _entry(missing, offset_before, 0.0)
                for missing in range(start, start + HOUR_S, spec.resolution_s)
            )
        data.append(_entry(start, offset, float(values[i])))
    resolution = next(k for k, v in RESOLUTIONS.items() if v == spec.resolution_s)
    return {"resolution": resolution, "unit": "MW", "format": spec.format.value, "data": data}
