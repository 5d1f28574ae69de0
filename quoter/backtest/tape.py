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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    LoadShape,
    MyQuoteStatus,
    ProductType,
    QuoteType,
    Rfq,
    RfqStatus,
)
from quoter.domain.market import AREAS
from quoter.domain.trading import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH

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
PRICES = ("competitor_price", "requester_limit", "reference_price")
ENUMS: dict[str, type] = {
    "quote_type": QuoteType,
    "commodity": Commodity,
    "load": Load,
    "product_type": ProductType,
}


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


@dataclass(frozen=True, slots=True)
class Tape:
    """The good rows, ordered by created-at (then id), and the refused ones."""

    source: str
    rfqs: tuple[TapeRfq, ...]
    problems: tuple[TapeProblem, ...] = ()

    def __len__(self) -> int:
        return len(self.rfqs)

    def __iter__(self) -> Iterator[TapeRfq]:
        return iter(self.rfqs)

    def entry(self, index: int) -> TapeRfq:
        """The `index`-th RFQ in arrival order."""
        return self.rfqs[index]

    def arrival(self, index: int) -> datetime:
        """When the `index`-th RFQ becomes visible."""
        return self.rfqs[index].rfq.created_at

    @property
    def start(self) -> datetime:
        return self.rfqs[0].rfq.created_at

    @property
    def end(self) -> datetime:
        return max(t.rfq.quote_deadline for t in self.rfqs)


def read_frame(path: Path) -> pd.DataFrame:
    """The raw table of a tape file, every column kept as read."""
    if not path.is_file():
        raise TapeError(f"{path}: no such tape file")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise TapeError(f"{path}: cannot read the tape: {error}") from None


def read_tape(path: Path) -> Tape:
    """The tape at `path`: its good rows as RFQs and a problem for each refused row."""
    frame = read_frame(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise TapeError(f"{path}: missing columns: {', '.join(missing)}")
    return parse_frame(frame, str(path), path.parent)


def parse_frame(frame: pd.DataFrame, source: str, shapes_dir: Path | None = None) -> Tape:
    """Rows of a tape table as RFQs; each bad row refused with its first problem."""
    columns = {c: _column(frame, c) for c in COLUMNS}
    rfqs: list[TapeRfq] = []
    problems: list[TapeProblem] = []
    seen: set[str] = set()
    instruments: dict[tuple[object, ...], Instrument] = {}
    for i in range(len(frame)):
        row = {c: columns[c][i] for c in COLUMNS}
        try:
            entry = _entry(row, instruments, shapes_dir)
            if entry.id in seen:
                raise _Bad("id", f"{entry.id!r} appears twice")
        except _Bad as bad:
            problems.append(TapeProblem(source, i + 1, bad.field, bad.message))
            continue
        seen.add(entry.id)
        rfqs.append(entry)
    rfqs.sort(key=lambda t: (t.rfq.created_at, t.id))
    return Tape(source, tuple(rfqs), tuple(problems))


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    if name not in frame.columns:
        return [None] * len(frame)
    return list(frame[name].astype(object).where(frame[name].notna(), None))


def _blank(value: object) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(row: dict[str, object], name: str, *, required: bool = True) -> str | None:
    value = row[name]
    if _blank(value):
        if required:
            raise _Bad(name, "missing")
        return None
    return str(value).strip()


def _instant(row: dict[str, object], name: str, *, required: bool = True) -> datetime | None:
    value = row[name]
    if _blank(value):
        if required:
            raise _Bad(name, "missing")
        return None
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise _Bad(name, f"not an instant: {value!r}") from None
    if pd.isna(stamp):
        raise _Bad(name, "missing")
    if stamp.tzinfo is None:
        raise _Bad(name, f"{value!r} has no UTC offset")
    moment: datetime = stamp.tz_convert(UTC).to_pydatetime()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _number(row: dict[str, object], name: str, *, required: bool = False) -> float | None:
    value = row[name]
    if _blank(value):
        if required:
            raise _Bad(name, "missing")
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise _Bad(name, f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise _Bad(name, f"not finite: {value!r}")
    return number


def _enum(row: dict[str, object], name: str, kind: type) -> object:
    text = _text(row, name)
    try:
        return kind(text)
    except ValueError:
        choices = " | ".join(m.value for m in kind)  # type: ignore[attr-defined]
        raise _Bad(name, f"{text!r} is not one of {choices}") from None


def _side(row: dict[str, object], name: str) -> Action | None:
    text = _text(row, name, required=False)
    if text is None:
        return None
    try:
        return Action(text)
    except ValueError:
        raise _Bad(name, f"{text!r} is not buy or sell") from None


def _price(row: dict[str, object], name: str) -> float | None:
    price = _number(row, name)
    if price is not None and not PRICE_MIN_EUR_MWH <= price <= PRICE_MAX_EUR_MWH:
        raise _Bad(name, f"{price} is outside [{PRICE_MIN_EUR_MWH:g}, {PRICE_MAX_EUR_MWH:g}]")
    return price


def _instrument(row: dict[str, object], cache: dict[tuple[object, ...], Instrument]) -> Instrument:
    commodity = _enum(row, "commodity", Commodity)
    area = _text(row, "market_area")
    assert isinstance(commodity, Commodity)
    if area not in AREAS[commodity]:
        raise _Bad("market_area", f"{area!r} is not a {commodity} area")
    load = _enum(row, "load", Load)
    product = _enum(row, "product_type", ProductType)
    start, end = _instant(row, "maturity_start"), _instant(row, "maturity_end")
    assert start is not None
    assert end is not None
    if end <= start:
        raise _Bad("maturity_end", f"{end.isoformat()} is not after maturity_start")
    if commodity is Commodity.GAS and load not in (Load.BASE, Load.CUSTOM):
        raise _Bad("load", f"gas is delivered base, not {load}")
    label, settlement = _text(row, "product_label"), _text(row, "settlement", required=False)
    key = (commodity, area, load, settlement, start, end, product, label)
    found = cache.get(key)
    if found is None:
        found = Instrument(
            commodity=commodity,
            market_area=str(area),
            load=load,  # type: ignore[arg-type]
            settlement=settlement or "physical",
            start=start,
            end=end,
            product_type=product,  # type: ignore[arg-type]
            product_label=str(label),
        )
        cache[key] = found
    return found


def _shape(row: dict[str, object], load: Load, shapes_dir: Path | None) -> LoadShape | None:
    from quoter.backtest.shapes import read_shape  # the venue parser, only for custom rows

    ref = _text(row, "load_shape", required=False)
    if (load is Load.CUSTOM) != (ref is not None):
        raise _Bad("load_shape", "a custom load needs a load_shape file, and only it")
    if ref is None:
        return None
    try:
        return read_shape((shapes_dir or Path(".")) / ref)
    except ValueError as error:
        raise _Bad("load_shape", str(error)) from None


def _entry(
    row: dict[str, object],
    instruments: dict[tuple[object, ...], Instrument],
    shapes_dir: Path | None,
) -> TapeRfq:
    rfq_id = _text(row, "id")
    created, deadline = _instant(row, "created_at"), _instant(row, "quote_deadline")
    assert rfq_id is not None
    assert created is not None
    assert deadline is not None
    if deadline <= created:
        raise _Bad("quote_deadline", "is not after created_at")
    quote_type = _enum(row, "quote_type", QuoteType)
    action = _side(row, "action")
    if (quote_type is QuoteType.TWO_WAY) != (action is None):
        raise _Bad("action", "empty exactly when the RFQ is two-way")
    side = _side(row, "requester_side") or action
    if side is None:
        raise _Bad("requester_side", "a two-way RFQ needs the side the requester takes")
    if action is not None and side is not action:
        raise _Bad("requester_side", f"{side} differs from action {action}")
    quantity = _number(row, "quantity_mw", required=True)
    assert quantity is not None
    if quantity <= 0:
        raise _Bad("quantity_mw", f"{quantity} is not positive")
    instrument = _instrument(row, instruments)
    shape = _shape(row, instrument.load, shapes_dir)
    requester = _text(row, "requester_id")
    rfq = Rfq(
        id=rfq_id,
        short_id=rfq_id[:8],
        venue="entender",
        status=RfqStatus.OPEN,
        created_at=created,
        updated_at=created,
        quote_deadline=deadline,
        requester_id=str(requester),
        requester_name=_text(row, "requester_name", required=False) or str(requester),
        action=action,
        quote_type=quote_type,  # type: ignore[arg-type]
        instrument=instrument,
        quantity_mw=quantity,
        shape_ref=None if shape is None else f"/rfqs/{rfq_id}/load-shape",
        currency="EUR",
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )
    return TapeRfq(
        rfq=rfq,
        shape=shape,
        requester_side=side,
        competitor_price=_price(row, "competitor_price"),
        requester_limit=_price(row, "requester_limit"),
        reference_price=_price(row, "reference_price"),
        cancel_at=_instant(row, "cancel_at", required=False),
    )


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
