"""A tape's columns parsed whole: text, instants, numbers and choices as arrays, each cell refused
with the message the per-cell rules below give it; and the first problem of each refused row.

The vectorised parsers are fast paths: a cell they cannot settle (an unusual spelling, a bad
value) goes to the per-cell rule, which alone decides what is accepted and says why not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int8]
Mask = npt.NDArray[np.bool_]
T = TypeVar("T", bound=np.generic)

NO_MS = np.iinfo(np.int64).min  # an absent instant
SLICE_ROWS = 65_536
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICKS_PER_MS = {"ms": 1, "us": 1000, "ns": 1_000_000}
# What the fast path parses; other text (naive, spaced, odd) goes to the per-cell rule.
ISO_WITH_OFFSET = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)"
)


def instant(ms: int) -> datetime:
    """The UTC instant `ms` milliseconds after the epoch. (Milliseconds as the timedelta's
    fourth positional argument: the keyword costs twice as much, and a replay asks for three
    instants an RFQ.)"""
    return EPOCH + timedelta(0, 0, 0, ms)


class Refused(Exception):
    """A cell's problem; the message says it."""


@dataclass(frozen=True, slots=True, eq=False)
class Cells(Generic[T]):
    """A column's values, where it is blank (absent, NaN, only spaces), and each cell's problem
    when it is neither blank nor usable."""

    values: npt.NDArray[T]
    blank: Mask
    problems: dict[int, str] = field(default_factory=dict)


def positional(values: pd.Series | None, rows: int) -> pd.Series:
    """A column indexed by row position, a categorical one as its categories' type; all blank
    when absent."""
    if values is None:
        return pd.Series(np.full(rows, np.nan))
    values = values.reset_index(drop=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = values.cat.codes.to_numpy()
        return pd.Series(values.cat.categories.array.take(found, allow_fill=True))
    return values


def texts(values: pd.Series) -> pd.Series:
    """The column as stripped text, NaN where blank; the column itself when that changes
    nothing (a long id column is not copied)."""
    if not _is_text(values):
        values = values.astype(object).map(str, na_action="ignore")
    text = values.astype("str")
    stripped = text.str.strip()
    if stripped.str.len().sum() < text.str.len().sum():  # stripping only ever shortens
        text = stripped
    empty = text.eq("").to_numpy()
    return text.where(~empty) if empty.any() else text


def factorized(text: pd.Series) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Each row's index among the distinct texts (-1 where blank), and those texts."""
    found, distinct = pd.factorize(text)
    return found.astype(np.int32), [str(t) for t in distinct]


def codes(text: pd.Series, names: Sequence[str]) -> Codes:
    """Each text's position in `names`; -1 where blank or none of them."""
    found, distinct = factorized(text)
    position = [names.index(t) if t in names else -1 for t in distinct]
    return np.array([*position, -1], dtype=np.int8)[found]  # found -1 (blank) takes the last


def object_array(text: pd.Series, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.object_]:
    """`text` at `rows` as Python strs, taken a slice at a time (no copy of the whole column)."""
    found = np.empty(len(rows), dtype=object)
    for at in range(0, len(rows), SLICE_ROWS):
        found[at : at + SLICE_ROWS] = text.iloc[rows[at : at + SLICE_ROWS]].to_numpy(dtype=object)
    return found


def instants(values: pd.Series) -> Cells[np.int64]:
    """The column as epoch milliseconds, truncated; NO_MS where blank or refused."""
    ms = np.full(len(values), NO_MS, dtype=np.int64)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        blank = values.isna().to_numpy()
        ms[~blank] = _epoch_ms(values[~blank])
        return Cells(ms, blank)
    if _is_text(values):
        text = values.astype("str")
        blank = text.str.strip().fillna("").eq("").to_numpy()
        iso = text.str.fullmatch(ISO_WITH_OFFSET).fillna(False).to_numpy(dtype=bool)
        stamps = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce")
        parsed = stamps.notna().to_numpy()
        ms[np.flatnonzero(iso)[parsed]] = _epoch_ms(stamps[parsed])
        unsettled = ~blank & (ms == NO_MS)
    else:
        blank = values.isna().to_numpy()
        unsettled = ~blank
    return _settle(values, Cells(ms, blank), unsettled, _instant_ms)


def numbers(values: pd.Series) -> Cells[np.float64]:
    """The column as floats; NaN where blank or refused."""
    if _is_text(values):
        text = values.astype("str").str.strip()
        blank = text.fillna("").eq("").to_numpy()
        floats = pd.to_numeric(text, errors="coerce").to_numpy(
            np.float64, na_value=np.nan, copy=True
        )
    elif pd.api.types.is_numeric_dtype(values.dtype):
        floats = values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        blank = np.isnan(floats)
    else:
        blank = values.isna().to_numpy()
        floats = np.full(len(values), np.nan)
    unsettled = ~blank & ~np.isfinite(floats)
    floats[unsettled] = np.nan
    return _settle(values, Cells(floats, blank), unsettled, _number)


def _settle(
    values: pd.Series, cells: Cells[T], unsettled: Mask, rule: Callable[[object], float]
) -> Cells[T]:
    """`cells` with the `unsettled` cells decided by `rule` on the raw value, as read."""
    rows = np.flatnonzero(unsettled)
    raw = values.iloc[rows].astype(object).to_numpy()
    for row, value in zip(rows.tolist(), raw, strict=True):
        try:
            cells.values[row] = rule(value)
        except Refused as refused:
            cells.problems[row] = str(refused)
    return cells


def _instant_ms(value: object) -> int:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise Refused(f"not an instant: {value!r}") from None
    if pd.isna(stamp):
        raise Refused("missing")
    if stamp.tzinfo is None:
        raise Refused(f"{value!r} has no UTC offset")
    return (stamp.to_pydatetime(warn=False) - EPOCH) // timedelta(milliseconds=1)


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise Refused(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise Refused(f"not finite: {value!r}")
    return number


def _epoch_ms(stamps: pd.Series) -> Ints:
    """Aware timestamps (no NaT) as epoch milliseconds, floored like a datetime's microseconds."""
    unit = stamps.dt.unit
    ticks = stamps.to_numpy(dtype=f"datetime64[{unit}]").view(np.int64)
    if unit == "s":
        return ticks * 1000
    return ticks // TICKS_PER_MS[unit]


def _is_text(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.StringDtype):
        return True
    kind = pd.api.types.infer_dtype(values, skipna=True) if values.dtype == object else ""
    return kind in ("string", "empty")


class Refusals:
    """The first problem of each row: the checks run in a fixed order, and each one looks only at
    the rows no earlier check refused."""

    def __init__(self, rows: int) -> None:
        self.refused: Mask = np.zeros(rows, dtype=np.bool_)
        self.found: dict[int, tuple[str, str]] = {}

    def refuse(self, name: str, bad: Mask, message: str | Callable[[int], str]) -> None:
        """Refuse the open rows where `bad`; `message` may be worded per row."""
        rows = np.flatnonzero(bad & ~self.refused)
        for row in rows.tolist():
            self.found[row] = (name, message if isinstance(message, str) else message(row))
        self.refused[rows] = True

    def refuse_each(self, name: str, messages: dict[int, str]) -> None:
        """Refuse the open rows among `messages`' keys, each with its message."""
        for row, message in messages.items():
            if not self.refused[row]:
                self.found[row] = (name, message)
                self.refused[row] = True

    def cells(self, name: str, cells: Cells[T], *, required: bool) -> npt.NDArray[T]:
        """`cells`' values; refuses the open rows whose cell is refused, or blank when
        `required`."""
        if required:
            self.refuse(name, cells.blank, "missing")
        self.refuse_each(name, cells.problems)
        return cells.values

    def problems(self) -> list[tuple[int, str, str]]:
        """(row position, field, message) of each refused row, by row."""
        return [(row, *self.found[row]) for row in sorted(self.found)]
