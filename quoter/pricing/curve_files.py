"""Curve files in the export format of docs/curve-format.md: read a file or a folder into a
`CurveSet`, refusing each bad series with its file, row and column (`curve_export` writes one).

Rows are named as a person finds them: in CSV the line number (the header is line 1), in Parquet
the 0-based row index. A series may be split over several files of a folder (say one file per
year); its pieces are merged and must then form one gap-free grid, and its `as_of` is the oldest
of its files'. Everything on the happy path is vectorised; Python loops run per series or per
problem, never per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from quoter.domain.market import AREAS, Commodity
from quoter.pricing.curve import CurveSeries, CurveSet, SeriesKey

if TYPE_CHECKING:
    # Imported where files are read: the running bot imports this module for its types and
    # refusal reasons, and one on the synthetic curves (no [curves] path) never reads a file.
    import pandas as pd

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
RawKey = tuple[str, str]

REQUIRED_COLUMNS = ("commodity", "market_area", "start", "price")
SUFFIXES = (".csv", ".parquet")
_OFFSET_PATTERN = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
_US = 1_000_000
_NAT = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RefusalReason(StrEnum):
    """Why a curve was refused, as a bounded code for metrics and alerts."""

    SYNTAX = "syntax"  # a value or a grid the format does not allow
    EMPTY = "empty"  # a file with no rows: empty, or its header only
    MISSING = "missing"  # no file, or no usable series for an area the desk trades
    IMPLAUSIBLE_LEVEL = "implausible-level"  # prices outside the commodity's band
    JUMP = "jump"  # prices far from the last good version of the series
    FUTURE_AS_OF = "future-as-of"  # a curve date still to come


@dataclass(frozen=True, slots=True)
class CurveProblem:
    """Why a file or a series was refused. `row` is a CSV line number (header = 1) or a Parquet
    0-based row index; `series` is None when the whole file was refused."""

    file: str
    row: int | None
    column: str | None
    message: str
    series: RawKey | None = None
    reason: RefusalReason = RefusalReason.SYNTAX

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}" + (" (0-based)" if self.file.endswith(".parquet") else "")
        if self.column is not None:
            where += f", column {self.column}"
        series = f" [{self.series[0]}/{self.series[1]}]" if self.series else ""
        return f"{where}{series}: {self.message}"


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a well-formed series is still refused (curve_checks.py); `index` is the interval
    that shows it, when one does, for the loader to name its file and row."""

    reason: RefusalReason
    column: str
    message: str
    index: int | None = None


SeriesVet = Callable[[CurveSeries], Finding | None]


def accept_all(series: CurveSeries) -> Finding | None:
    """The syntax alone: what `quoter curves check` without limits and the tests of it see."""
    return None


@dataclass(frozen=True, slots=True)
class CurveLoad:
    """What a load found: the good series, the problems, and the files each series came from."""

    curve_set: CurveSet
    problems: tuple[CurveProblem, ...]
    sources: Mapping[SeriesKey, tuple[str, ...]] = field(default_factory=dict)

    @property
    def refused(self) -> frozenset[RawKey]:
        return frozenset(p.series for p in self.problems if p.series is not None)

    @property
    def failed_files(self) -> frozenset[str]:
        return frozenset(p.file for p in self.problems if p.series is None)


def curve_files(path: Path) -> list[Path]:
    """The curve files at `path`: the file itself, or a folder's *.csv and *.parquet, sorted."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return [path]


def load_curve_set(path: Path, vet: SeriesVet = accept_all) -> CurveLoad:
    """Read a curve file or folder; bad series are refused and reported, good ones load. Each
    well-formed series then passes `vet` (plausibility: curve_checks.py) or is refused too."""
    try:
        files = curve_files(path)
    except OSError as error:
        missing = RefusalReason.MISSING
        return _empty(CurveProblem(str(path), None, None, f"cannot list: {error}", None, missing))
    if not files:
        message = "no *.csv or *.parquet curve files"
        return _empty(CurveProblem(str(path), None, None, message, None, RefusalReason.MISSING))
    frames: list[pd.DataFrame] = []
    problems: list[CurveProblem] = []
    for index, file in enumerate(files):
        raw = _read_file(file)
        if isinstance(raw, CurveProblem):
            problems.append(raw)
            continue
        parsed = _parse_rows(raw, str(file), index, problems)
        if parsed is not None and parsed.empty and not _refused_in(problems, str(file)):
            problems.append(_no_rows(str(file)))
        elif parsed is not None:
            frames.append(parsed)
    names = [str(f) for f in files]
    series, sources = _assemble(frames, names, problems, vet)
    return CurveLoad(CurveSet(series), tuple(problems), sources)


def _empty(problem: CurveProblem) -> CurveLoad:
    return CurveLoad(CurveSet({}), (problem,))


def _no_rows(name: str) -> CurveProblem:
    message = "no rows: the file is empty or holds only its header"
    return CurveProblem(name, None, None, message, None, RefusalReason.EMPTY)


def _refused_in(problems: list[CurveProblem], name: str) -> bool:
    return any(p.file == name for p in problems)


# --- reading one file into a raw frame ------------------------------------------------------


def _read_file(file: Path) -> pd.DataFrame | CurveProblem:
    import pandas as pd

    name = str(file)
    try:
        if file.suffix == ".parquet":
            frame = pd.read_parquet(file)
            frame["_row"] = np.arange(len(frame), dtype=np.int64)
        else:
            frame = pd.read_csv(
                file,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                skipinitialspace=True,
                encoding="utf-8-sig",  # a byte-order mark from spreadsheet exports is fine
            )
            if not isinstance(frame.index, pd.RangeIndex):  # pandas made extra fields an index
                return CurveProblem(name, 2, None, "more fields than the header names")
            frame["_row"] = np.arange(2, len(frame) + 2, dtype=np.int64)
        mtime_ns = file.stat().st_mtime_ns
    except FileNotFoundError:
        return CurveProblem(name, None, None, "no such file", None, RefusalReason.MISSING)
    except pd.errors.EmptyDataError:
        return _no_rows(name)
    except (OSError, ValueError) as error:  # parser, Arrow and Unicode errors are ValueErrors
        return CurveProblem(name, None, None, f"cannot read: {error}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        header = 1 if file.suffix == ".csv" else None
        message = "missing column " + ", ".join(repr(c) for c in missing)
        return CurveProblem(name, header, ", ".join(missing), message)
    frame.attrs["mtime_us"] = mtime_ns // 1000
    return frame


def _text(values: pd.Series) -> pd.Series:
    import pandas as pd

    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("str")
    return values.fillna("").str.strip()


def _instants_us(values: pd.Series, *, whole_s: bool) -> tuple[IntArray, BoolArray] | str:
    """UTC microseconds and a mask of bad entries, or why the whole column is unusable."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
        no_offset = np.zeros(len(values), dtype=bool)
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "timestamps must be timezone-aware"
    else:
        text = _text(values)
        parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        no_offset = ~text.str.contains(_OFFSET_PATTERN, regex=True).to_numpy(dtype=bool)
    micros = np.asarray(parsed.dt.as_unit("us").array.asi8, dtype=np.int64)
    bad = (micros == _NAT) | no_offset
    if whole_s:
        bad |= micros % _US != 0
    return micros, bad


def _prices(values: pd.Series) -> npt.NDArray[np.float64]:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.asarray(pd.to_numeric(_text(values), errors="coerce").to_numpy(dtype=np.float64))


def _parse_rows(
    raw: pd.DataFrame, name: str, file_index: int, problems: list[CurveProblem]
) -> pd.DataFrame | None:
    """The typed rows of one file; rows with bad values are reported and their series refused."""
    import pandas as pd

    frame = pd.DataFrame(
        {"commodity": _text(raw["commodity"]), "market_area": _text(raw["market_area"])}
    )
    blank = (frame["commodity"] == "") & (frame["market_area"] == "")
    if isinstance(raw["start"].dtype, pd.StringDtype):  # a blank CSV line
        blank &= _text(raw["start"]) == ""
    frame["_row"] = raw["_row"].to_numpy()
    frame["file"] = np.int64(file_index)
    checks: list[tuple[str, BoolArray, pd.Series, str]] = []
    for column in ("start", "as_of"):
        if column not in raw.columns:
            continue
        instants = _instants_us(raw[column], whole_s=column == "start")
        if isinstance(instants, str):
            problems.append(CurveProblem(name, None, column, instants))
            return None
        frame[f"{column}_us"], bad = instants
        checks.append((column, bad, raw[column], "not a timestamp with a UTC offset"))
    if "as_of" not in raw.columns:
        frame["as_of_us"] = np.int64(raw.attrs["mtime_us"])
    frame["price"] = _prices(raw["price"])
    bad_price = ~np.isfinite(frame["price"].to_numpy())
    checks.append(("price", bad_price, raw["price"], "not a finite number"))
    keep = ~blank.to_numpy(dtype=bool)
    for column, bad, values, what in checks:
        _report_rows(frame, bad & keep, values, name, column, what, problems)
    return frame[keep]


def _report_rows(
    frame: pd.DataFrame,
    bad: BoolArray,
    values: pd.Series,
    name: str,
    column: str,
    what: str,
    problems: list[CurveProblem],
) -> None:
    """One problem per series for the bad rows of one check: the first row and how many more."""
    if not bad.any():
        return
    rows = frame[bad].assign(_value=values[bad].astype(str).to_numpy())
    for key, group in rows.groupby(["commodity", "market_area"], sort=True):
        first = group.iloc[0]
        more = len(group) - 1
        tail = f" (and {more} more rows of this series)" if more else ""
        message = f"{what}: {first['_value']!r}{tail}"
        series = (str(key[0]), str(key[1]))
        problems.append(CurveProblem(name, int(first["_row"]), column, message, series))


# --- assembling series from the rows of all files -------------------------------------------


def _assemble(
    frames: list[pd.DataFrame], names: list[str], problems: list[CurveProblem], vet: SeriesVet
) -> tuple[dict[SeriesKey, CurveSeries], dict[SeriesKey, tuple[str, ...]]]:
    import pandas as pd

    series: dict[SeriesKey, CurveSeries] = {}
    sources: dict[SeriesKey, tuple[str, ...]] = {}
    if not frames:
        return series, sources
    table = pd.concat(frames, ignore_index=True)
    refused = {p.series for p in problems if p.series is not None}
    columns = {c: table[c].to_numpy() for c in ("start_us", "price", "as_of_us", "file", "_row")}
    for raw_key, positions in sorted(table.groupby(["commodity", "market_area"]).indices.items()):
        commodity, area = cast("tuple[object, object]", raw_key)
        key = (str(commodity), str(area))
        if key in refused:
            continue
        rows = {c: v[positions] for c, v in columns.items()}
        built = _build_series(key, rows, names, vet)
        if isinstance(built, CurveProblem):
            problems.append(built)
        else:
            series[built.key] = built
            sources[built.key] = tuple(names[i] for i in np.unique(rows["file"]))
    return series, sources


def _where(
    rows: Mapping[str, npt.NDArray[np.generic]], i: int, names: list[str]
) -> tuple[str, int]:
    return names[int(rows["file"][i])], int(rows["_row"][i])


def _build_series(
    key: RawKey, rows: Mapping[str, npt.NDArray[np.generic]], names: list[str], vet: SeriesVet
) -> CurveSeries | CurveProblem:
    def problem(i: int, column: str, message: str) -> CurveProblem:
        file, row = _where(rows, i, names)
        return CurveProblem(file, row, column, message, key)

    commodity_text, area = key
    if commodity_text not in set(Commodity):
        return problem(0, "commodity", f"unknown commodity {commodity_text!r} (power or gas)")
    commodity = Commodity(commodity_text)
    if area not in AREAS[commodity]:
        return problem(0, "market_area", f"unknown {commodity} market area {area!r}")
    order = np.argsort(rows["start_us"], kind="stable")
    starts_s = np.asarray(rows["start_us"], dtype=np.int64)[order] // _US
    grid_problem = _check_grid(starts_s)
    if grid_problem is not None:
        at, message = grid_problem
        return problem(int(order[at]), "start", message)
    as_of = _as_of(rows, names, key)
    if isinstance(as_of, CurveProblem):
        return as_of
    step_s = int(starts_s[1] - starts_s[0]) if starts_s.size > 1 else _single_step(starts_s)
    prices = np.asarray(rows["price"], dtype=np.float64)[order]
    files = ", ".join(sorted({names[int(i)] for i in np.unique(rows["file"])}))
    series = CurveSeries(commodity, area, int(starts_s[0]), step_s, prices, as_of, files)
    finding = vet(series)
    if finding is None:
        return series
    if finding.index is None:
        return CurveProblem(files, None, finding.column, finding.message, key, finding.reason)
    file, row = _where(rows, int(order[finding.index]), names)
    return CurveProblem(file, row, finding.column, finding.message, key, finding.reason)


def _single_step(starts_s: IntArray) -> int:
    return 3600 if int(starts_s[0]) % 3600 == 0 else 900


def _check_grid(starts_s: IntArray) -> tuple[int, str] | None:
    """The sorted position of the first row that breaks a regular 15- or 60-minute grid."""
    gaps = np.diff(starts_s)
    if gaps.size and (gaps == 0).any():
        at = int(np.argmax(gaps == 0)) + 1
        return at, f"duplicated interval {_iso(int(starts_s[at]))}"
    if gaps.size:
        values, counts = np.unique(gaps, return_counts=True)
        step = int(values[np.argmax(counts)])
    else:
        step = _single_step(starts_s)
    if step not in (900, 3600):
        return 1, f"intervals are {step} s apart; the resolution must be 15 or 60 minutes"
    if int(starts_s[0]) % step:
        return 0, f"{_iso(int(starts_s[0]))} is not on a {step // 60}-minute boundary"
    irregular = gaps % step != 0
    if irregular.any():
        at = int(np.argmax(irregular)) + 1
        return (
            at,
            f"mixed resolutions: {int(gaps[at - 1])} s after the previous interval in a {step // 60}-minute series",
        )
    if step == 900:
        hourly = (gaps[:-1] == 3600) & (gaps[1:] == 3600)
        if hourly.any():
            at = int(np.argmax(hourly)) + 1
            return at, "mixed resolutions: hourly intervals in a 15-minute series"
    missing = gaps > step
    if missing.any():
        at = int(np.argmax(missing)) + 1
        count = int(gaps[at - 1]) // step - 1
        first = _iso(int(starts_s[at - 1]) + step)
        return at, f"{count} missing interval(s) from {first} before this row"
    return None


def _as_of(
    rows: Mapping[str, npt.NDArray[np.generic]], names: list[str], key: RawKey
) -> datetime | CurveProblem:
    """The oldest file's as_of; within one file every row of the series must agree."""
    as_of_us = np.asarray(rows["as_of_us"], dtype=np.int64)
    files = np.asarray(rows["file"], dtype=np.int64)
    for file in np.unique(files):
        values = as_of_us[files == file]
        if (values != values[0]).any():
            i = int(np.flatnonzero((files == file) & (as_of_us != values[0]))[0])
            name, row = _where(rows, i, names)
            message = f"inconsistent as_of: {_iso_us(int(as_of_us[i]))} here, {_iso_us(int(values[0]))} before"
            return CurveProblem(name, row, "as_of", message, key)
    return _EPOCH + timedelta(microseconds=int(as_of_us.min()))


def _iso(instant_s: int) -> str:
    return _iso_us(instant_s * _US)


def _iso_us(instant_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=instant_us)).isoformat().replace("+00:00", "Z")
