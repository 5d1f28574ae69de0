"""The tape's row rules, checked a column at a time in the order a row's fields are read, so that
each refused row keeps its first problem; the good rows become compact columns in arrival order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from quoter.backtest.tape_columns import (
    SLICE_ROWS,
    Codes,
    Floats,
    Ints,
    Mask,
    Refusals,
    codes,
    factorized,
    instant,
    instants,
    numbers,
    object_array,
    positional,
    texts,
)
from quoter.domain import Action, Commodity, Instrument, Load, LoadShape, ProductType, QuoteType
from quoter.domain.market import AREAS
from quoter.domain.trading import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH

# A code is a position in one of these; -1 means none.
QUOTE_TYPES = tuple(QuoteType)
ACTIONS = tuple(Action)
COMMODITIES = tuple(Commodity)
LOADS = tuple(Load)
PRODUCT_TYPES = tuple(ProductType)
AREA_NAMES = tuple(sorted(set().union(*AREAS.values())))
TRADES_IN = np.array([[a in AREAS[c] for a in AREA_NAMES] for c in COMMODITIES])
PRICE_FIELDS = ("competitor_price", "requester_limit", "reference_price")
V = TypeVar("V")
Build = Callable[[tuple[int, ...]], V]
Parts = dict[str, npt.NDArray[np.integer[Any]]]  # codes and numbers of a value, by part


@dataclass(frozen=True, slots=True, eq=False)
class TapeColumns:
    """The good rows in arrival order, an array entry per row: codes index the tuples above,
    `instrument` and `requester` index their tables of distinct values."""

    ids: npt.NDArray[np.object_]  # str
    created_ms: Ints
    deadline_ms: Ints
    cancel_ms: Ints  # NO_MS: not cancelled
    quote_type: Codes
    action: Codes  # -1 on a two-way RFQ
    side: Codes
    quantity_mw: Floats
    competitor_price: Floats  # NaN: none
    requester_limit: Floats
    reference_price: Floats
    instrument: npt.NDArray[np.int32]
    instruments: tuple[Instrument, ...]
    requester: npt.NDArray[np.int32]
    requesters: tuple[tuple[str, str], ...]  # (id, name)
    shapes: dict[str, LoadShape]  # by RFQ id: the custom loads


def check(
    columns: dict[str, pd.Series], row_count: int, shapes_dir: Path | None
) -> tuple[TapeColumns, list[tuple[int, str, str]]]:
    """The good rows of a table of `row_count` rows as columns, and (row position, field,
    message) of the others. Takes each column out of `columns` as it checks it, so that a column
    can be freed once checked."""
    rows = _Rows(columns, row_count)
    ids = rows.text("id")
    created, deadline = rows.instant("created_at"), rows.instant("quote_deadline")
    rows.refuse("quote_deadline", deadline <= created, "is not after created_at")
    quote_type, action, side = _sides(rows)
    quantity = rows.number("quantity_mw", required=True)
    rows.refuse("quantity_mw", quantity <= 0, lambda i: f"{float(quantity[i])} is not positive")
    instrument, build_instrument = _instrument(rows)
    shapes = _shapes(rows, instrument["load"] == _code(Load.CUSTOM), shapes_dir)
    requester, build_requester = _requester(rows)
    competitor, limit, reference = (rows.price(name) for name in PRICE_FIELDS)
    cancel = rows.instant("cancel_at", required=False)
    order = _arrival_order(rows, ids, created)
    instrument_codes, instruments = _distinct(instrument, order, build_instrument)
    requester_codes, requesters = _distinct(requester, order, build_requester)
    good = TapeColumns(
        ids=object_array(ids, order),
        created_ms=created[order],
        deadline_ms=deadline[order],
        cancel_ms=cancel[order],
        quote_type=quote_type[order],
        action=action[order],
        side=side[order],
        quantity_mw=quantity[order],
        competitor_price=competitor[order],
        requester_limit=limit[order],
        reference_price=reference[order],
        instrument=instrument_codes,
        instruments=instruments,
        requester=requester_codes,
        requesters=requesters,
        shapes={str(ids.iloc[row]): s for row, s in shapes.items() if not rows.refused[row]},
    )
    return good, rows.problems()


class _Rows(Refusals):
    """A frame's rows under check: each reader parses one field and refuses the rows it fails."""

    def __init__(self, columns: dict[str, pd.Series], row_count: int) -> None:
        super().__init__(row_count)
        self.columns = columns

    def column(self, name: str) -> pd.Series:
        return positional(self.columns.pop(name, None), len(self.refused))

    def text(self, name: str, *, required: bool = True) -> pd.Series:
        text = texts(self.column(name))
        if required:
            self.refuse(name, text.isna().to_numpy(), "missing")
        return text

    def instant(self, name: str, *, required: bool = True) -> Ints:
        return self.cells(name, instants(self.column(name)), required=required)

    def number(self, name: str, *, required: bool = False) -> Floats:
        return self.cells(name, numbers(self.column(name)), required=required)

    def choice(self, name: str, kind: type[StrEnum]) -> Codes:
        text = self.text(name)
        found = codes(text, [m.value for m in kind])
        choices = " | ".join(m.value for m in kind)
        self.refuse(name, found < 0, lambda i: f"{text.iloc[i]!r} is not one of {choices}")
        return found

    def side(self, name: str) -> Codes:
        text = self.text(name, required=False)
        found = codes(text, [m.value for m in Action])
        bad = (found < 0) & text.notna().to_numpy()
        self.refuse(name, bad, lambda i: f"{text.iloc[i]!r} is not buy or sell")
        return found

    def price(self, name: str) -> Floats:
        price = self.number(name)
        inside = (price >= PRICE_MIN_EUR_MWH) & (price <= PRICE_MAX_EUR_MWH)
        bounds = f"[{PRICE_MIN_EUR_MWH:g}, {PRICE_MAX_EUR_MWH:g}]"
        outside = ~inside & ~np.isnan(price)
        self.refuse(name, outside, lambda i: f"{float(price[i])} is outside {bounds}")
        return price


def _code(member: StrEnum) -> int:
    return tuple(type(member)).index(member)


def _sides(rows: _Rows) -> tuple[Codes, Codes, Codes]:
    """The quote type, the requester's action (-1 on a two-way RFQ) and the side it takes."""
    quote_type = rows.choice("quote_type", QuoteType)
    action = rows.side("action")
    two_way = quote_type == _code(QuoteType.TWO_WAY)
    rows.refuse("action", two_way != (action < 0), "empty exactly when the RFQ is two-way")
    side = rows.side("requester_side")
    side = np.where(side >= 0, side, action)
    rows.refuse("requester_side", side < 0, "a two-way RFQ needs the side the requester takes")
    rows.refuse(
        "requester_side",
        (action >= 0) & (side != action),
        lambda i: f"{ACTIONS[side[i]]} differs from action {ACTIONS[action[i]]}",
    )
    return quote_type, action, side


def _instrument(rows: _Rows) -> tuple[Parts, Build[Instrument]]:
    """Each row's instrument as codes, and how to build one from its codes."""
    commodity = rows.choice("commodity", Commodity)
    area = rows.text("market_area")
    place = codes(area, AREA_NAMES)
    trades = (place >= 0) & TRADES_IN[commodity.clip(0), place.clip(0)]
    rows.refuse(
        "market_area",
        ~trades,
        lambda i: f"{area.iloc[i]!r} is not a {COMMODITIES[commodity[i]]} area",
    )
    load = rows.choice("load", Load)
    product = rows.choice("product_type", ProductType)
    start, end = rows.instant("maturity_start"), rows.instant("maturity_end")
    rows.refuse(
        "maturity_end",
        end <= start,
        lambda i: f"{instant(int(end[i])).isoformat()} is not after maturity_start",
    )
    gas = commodity == _code(Commodity.GAS)
    base = np.isin(load, [_code(Load.BASE), _code(Load.CUSTOM)])
    rows.refuse("load", gas & ~base, lambda i: f"gas is delivered base, not {LOADS[load[i]]}")
    label, labels = factorized(rows.text("product_label"))
    settlement, settlements = factorized(rows.text("settlement", required=False))

    def build(parts: tuple[int, ...]) -> Instrument:
        commodity, place, load, settlement, start, end, product, label = parts
        return Instrument(
            commodity=COMMODITIES[commodity],
            market_area=AREA_NAMES[place],
            load=LOADS[load],
            settlement="physical" if settlement < 0 else settlements[settlement],
            start=instant(start),
            end=instant(end),
            product_type=PRODUCT_TYPES[product],
            product_label=labels[label],
        )

    parts: Parts = {
        "commodity": commodity,
        "place": place,
        "load": load,
        "settlement": settlement,
        "start": start,
        "end": end,
        "product": product,
        "label": label,
    }
    return parts, build


def _shapes(rows: _Rows, custom: Mask, shapes_dir: Path | None) -> dict[int, LoadShape]:
    """The load shape of each custom row that is still good, by row position."""
    from quoter.backtest.shapes import read_shape  # the venue parser, only for custom rows

    ref = rows.text("load_shape", required=False)
    only = "a custom load needs a load_shape file, and only it"
    rows.refuse("load_shape", custom != ref.notna().to_numpy(), only)
    found: dict[int, LoadShape] = {}
    failed: dict[int, str] = {}
    for row in np.flatnonzero(custom & ~rows.refused).tolist():
        try:
            found[row] = read_shape((shapes_dir or Path(".")) / ref.iloc[row])
        except ValueError as error:
            failed[row] = str(error)
    rows.refuse_each("load_shape", failed)
    return found


def _requester(rows: _Rows) -> tuple[Parts, Build[tuple[str, str]]]:
    """Each row's requester id and name as codes, and how to read them back; the name defaults
    to the id."""
    requester, requester_ids = factorized(rows.text("requester_id"))
    name, names = factorized(rows.text("requester_name", required=False))

    def build(parts: tuple[int, ...]) -> tuple[str, str]:
        requester, name = parts
        found = requester_ids[requester]
        return found, found if name < 0 else names[name]

    return {"id": requester, "name": name}, build


def _arrival_order(rows: _Rows, ids: pd.Series, created: Ints) -> npt.NDArray[np.intp]:
    """The good rows by created-at, then id; a good row whose id an earlier one has is refused."""
    sortable = ids.fillna("") if ids.isna().any() else ids  # blank ids are refused already
    by_id: npt.NDArray[np.intp] = np.asarray(sortable.argsort(kind="stable"), dtype=np.intp)
    by_id = by_id[~rows.refused[by_id]]  # the good rows by id, equal ids in row order
    again = np.zeros(len(by_id), dtype=np.bool_)
    for at in range(1, len(by_id), SLICE_ROWS):  # a slice at a time: no copy of the column
        pair = ids.iloc[by_id[at - 1 : at + SLICE_ROWS]].array
        again[at : at + SLICE_ROWS] = pair[1:] == pair[:-1]
    twice = np.zeros(len(ids), dtype=np.bool_)
    twice[by_id[again]] = True
    rows.refuse("id", twice, lambda i: f"{ids.iloc[i]!r} appears twice")
    first = by_id[~again]
    return first[np.argsort(created[first], kind="stable")]


def _distinct(
    parts: Parts, rows: npt.NDArray[np.intp], build: Build[V]
) -> tuple[npt.NDArray[np.int32], tuple[V, ...]]:
    """Each of `rows`' index among the distinct combinations of `parts`, and `build` of each
    combination (its parts in order)."""
    index = np.zeros(len(rows), dtype=np.int64)
    for part in parts.values():  # a part at a time: index < rows, codes < rows: no overflow
        found, distinct = pd.factorize(part[rows])
        index, _ = pd.factorize(index * len(distinct) + found)
    _, first = np.unique(index, return_index=True)
    table = zip(*(part[rows[first]].tolist() for part in parts.values()), strict=True)
    return index.astype(np.int32), tuple(build(row) for row in table)
