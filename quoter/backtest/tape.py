"""The RFQ tape: one row per RFQ, the contract's fields flattened plus what decides its outcome.

Parquet (`.parquet`) or CSV (anything else). Columns (`?` = optional, may be absent or empty):

    id                  text      the RFQ's id (unique in the tape)
    created_at          instant   when it becomes visible at the venue
    quote_deadline      instant   when it is settled
    action              text      buy | sell: the requester's side; empty on a two-way RFQ
    quote_type          text      one-way | two-way
    commodity           text      power | gas
    market_area         text      DE, FR, NL, THE, TTF, ... (contract areas)
    load                text      base | peak | off-peak | custom
    product_type        text      day, week, month, quarter, season, gas-year, year, custom, ...
    product_label       text      e.g. Q3-26, Cal-27
    maturity_start      instant   delivery start
    maturity_end        instant   delivery end (exclusive)
    quantity_mw         number    > 0
    requester_id        text
    requester_name?     text      defaults to requester_id
    settlement?         text      defaults to physical
    load_shape?         text      custom load only (and required there): a load-shape JSON in the
                                  contract's format, path relative to the tape's folder
    requester_side?     text      buy | sell: the side the requester really takes; required on a
                                  two-way RFQ, must equal `action` on a one-way one
    competitor_price?   number    best competing price on the requester's side (its best ask
                                  when it buys, best bid when it sells); empty/NaN: none
    requester_limit?    number    the worst price the requester accepts; empty/NaN: none
    reference_price?    number    the fair mid the logistic fill model measures our edge against
    cancel_at?          instant   the requester withdraws the RFQ then (if before the deadline)

Instants: Parquet timestamps with a time zone, or ISO 8601 text with an offset (`...Z`); naive
times are refused. A bad row is refused with file, row (1-based data row; CSV line = row + 1)
and field named, and the good rows are kept: `read_tape` returns both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from quoter.backtest.tape_checks import ACTIONS, QUOTE_TYPES, TapeColumns, check
from quoter.backtest.tape_columns import NO_MS, instant
from quoter.domain import Action, LoadShape, MyQuoteStatus, Rfq, RfqStatus

REQUIRED = (
    "id",
    "created_at",
    "quote_deadline",
    "action",
    "quote_type",
    "commodity",
    "market_area",
    "load",
    "product_type",
    "product_label",
    "maturity_start",
    "maturity_end",
    "quantity_mw",
    "requester_id",
)
OPTIONAL = (
    "requester_name",
    "settlement",
    "load_shape",
    "requester_side",
    "competitor_price",
    "requester_limit",
    "reference_price",
    "cancel_at",
)
COLUMNS = REQUIRED + OPTIONAL
INSTANTS = ("created_at", "quote_deadline", "maturity_start", "maturity_end", "cancel_at")
SUFFIXES = (".parquet", ".csv")  # what a recorded tape may be written as
NUMBERS = ("quantity_mw", "competitor_price", "requester_limit", "reference_price")


class TapeError(Exception):
    """A tape that cannot be read at all (missing file or column); the message names it."""


@dataclass(frozen=True, slots=True)
class TapeProblem:
    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class TapeRfq:
    """One RFQ of the tape with what decides its outcome. `requester_side` is the side the
    requester really takes; None prices mean none."""

    rfq: Rfq
    shape: LoadShape | None
    requester_side: Action
    competitor_price: float | None
    requester_limit: float | None
    reference_price: float | None
    cancel_at: datetime | None

    @property
    def id(self) -> str:
        return self.rfq.id


@dataclass(frozen=True, slots=True, eq=False)
class Tape:
    """The good rows, ordered by created-at (then id), held as columns; and the refused rows.
    An RFQ is built when asked for, so a long tape costs its columns, not its objects."""

    source: str
    columns: TapeColumns
    problems: tuple[TapeProblem, ...] = ()

    def __len__(self) -> int:
        return len(self.columns.ids)

    def __iter__(self) -> Iterator[TapeRfq]:
        return (self.entry(i) for i in range(len(self)))

    def entry(self, index: int) -> TapeRfq:
        """The `index`-th RFQ in arrival order; a replay builds every RFQ of the tape here."""
        c = self.columns
        rfq_id: str = c.ids[index]
        shape = c.shapes.get(rfq_id)
        cancel_ms = int(c.cancel_ms[index])
        competitor = float(c.competitor_price[index])  # NaN: none
        limit = float(c.requester_limit[index])
        reference = float(c.reference_price[index])
        return TapeRfq(
            rfq=self._rfq(index, rfq_id, shape is not None),
            shape=shape,
            requester_side=ACTIONS[c.side[index]],
            competitor_price=None if math.isnan(competitor) else competitor,
            requester_limit=None if math.isnan(limit) else limit,
            reference_price=None if math.isnan(reference) else reference,
            cancel_at=None if cancel_ms == NO_MS else instant(cancel_ms),
        )

    def arrival(self, index: int) -> datetime:
        """When the `index`-th RFQ becomes visible."""
        return instant(int(self.columns.created_ms[index]))

    @property
    def start(self) -> datetime:
        return self.arrival(0)

    @property
    def end(self) -> datetime:
        return instant(int(self.columns.deadline_ms.max()))

    def _rfq(self, index: int, rfq_id: str, shaped: bool) -> Rfq:
        c = self.columns
        created = instant(int(c.created_ms[index]))
        action = int(c.action[index])
        requester_id, requester_name = c.requesters[c.requester[index]]
        return Rfq(
            id=rfq_id,
            short_id=rfq_id[:8],
            venue="entender",
            status=RfqStatus.OPEN,
            created_at=created,
            updated_at=created,
            quote_deadline=instant(int(c.deadline_ms[index])),
            requester_id=requester_id,
            requester_name=requester_name,
            action=None if action < 0 else ACTIONS[action],
            quote_type=QUOTE_TYPES[c.quote_type[index]],
            instrument=c.instruments[c.instrument[index]],
            quantity_mw=float(c.quantity_mw[index]),
            shape_ref=f"/rfqs/{rfq_id}/load-shape" if shaped else None,
            currency="EUR",
            my_quote_status=MyQuoteStatus.NOT_QUOTED,
        )


def read_frame(path: Path) -> pd.DataFrame:
    """The raw table of a tape file, every column kept as read. Parquet text columns but the id
    come as categoricals: their few distinct values once, not a string per row."""
    if not path.is_file():
        raise TapeError(f"{path}: no such tape file")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(
                path,
                engine="pyarrow",
                read_dictionary=[c for c in COLUMNS if c not in (*INSTANTS, *NUMBERS, "id")],
            )
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise TapeError(f"{path}: cannot read the tape: {error}") from None


def read_tape(path: Path) -> Tape:
    """The tape at `path`: its good rows as RFQs and a problem for each refused row."""
    frame = read_frame(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise TapeError(f"{path}: missing columns: {', '.join(missing)}")
    rows = len(frame)
    columns = {c: frame.pop(c) for c in COLUMNS if c in frame.columns}
    del frame  # each column is freed once checked
    return _tape(columns, rows, str(path), path.parent)


def parse_frame(frame: pd.DataFrame, source: str, shapes_dir: Path | None = None) -> Tape:
    """Rows of a tape table as RFQs; each bad row refused with its first problem."""
    columns = {c: frame[c] for c in COLUMNS if c in frame.columns}
    return _tape(columns, len(frame), source, shapes_dir)


def _tape(columns: dict[str, pd.Series], rows: int, source: str, shapes_dir: Path | None) -> Tape:
    good, problems = check(columns, rows, shapes_dir)
    refused = tuple(TapeProblem(source, row + 1, name, message) for row, name, message in problems)
    if not len(good.ids):
        first = f"; the first: {refused[0]}" if refused else ""
        raise TapeError(f"{source}: no usable rows ({len(refused)} refused{first})")
    return Tape(source, good, refused)


def tape_frame(entries: list[TapeRfq], shape_refs: dict[str, str] | None = None) -> pd.DataFrame:
    """Tape rows as a table in the tape's columns (instants as UTC timestamps)."""
    refs = shape_refs or {}

    def row(t: TapeRfq) -> dict[str, object]:
        r, i = t.rfq, t.rfq.instrument
        return {
            "id": r.id,
            "created_at": r.created_at,
            "quote_deadline": r.quote_deadline,
            "action": "" if r.action is None else r.action.value,
            "quote_type": r.quote_type.value,
            "commodity": i.commodity.value,
            "market_area": i.market_area,
            "load": i.load.value,
            "product_type": i.product_type.value,
            "product_label": i.product_label,
            "maturity_start": i.start,
            "maturity_end": i.end,
            "quantity_mw": r.quantity_mw,
            "requester_id": r.requester_id,
            "requester_name": r.requester_name,
            "settlement": i.settlement,
            "load_shape": refs.get(r.id, ""),
            "requester_side": t.requester_side.value,
            "competitor_price": _nan(t.competitor_price),
            "requester_limit": _nan(t.requester_limit),
            "reference_price": _nan(t.reference_price),
            "cancel_at": t.cancel_at if t.cancel_at is not None else pd.NaT,
        }

    frame = pd.DataFrame([row(t) for t in entries], columns=list(COLUMNS))
    for name in INSTANTS:
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[ms, UTC]")
    return frame


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def write_tape(frame: pd.DataFrame, path: Path) -> None:
    """Write a tape table: Parquet for `.parquet`, else CSV with ISO instants."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False, compression="zstd")
        return
    text = frame.copy()
    for name in INSTANTS:
        text[name] = text[name].map(lambda t: "" if pd.isna(t) else t.isoformat())
    text.to_csv(path, index=False)
