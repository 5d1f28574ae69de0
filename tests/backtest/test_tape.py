from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quoter.backtest.shapes import read_shape, write_shape
from quoter.backtest.tape import (
    COLUMNS,
    REQUIRED,
    TapeError,
    TapeProblem,
    TapeRfq,
    parse_frame,
    read_tape,
    write_tape,
)
from quoter.domain import (
    Action,
    Commodity,
    Instrument,
    Load,
    MyQuoteStatus,
    ProductType,
    QuoteType,
    Rfq,
    RfqStatus,
)
from tests.backtest.helpers import short_tape


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_written_tape_reads_back_whole(tmp_path: Path, suffix: str) -> None:
    frame = short_tape(10)
    path = tmp_path / f"tape{suffix}"
    write_tape(frame, path)
    tape = read_tape(path)
    assert not tape.problems
    assert [t.id for t in tape] == sorted(frame.id, key=list(frame.id).index)
    first = tape.entry(0)
    assert first.rfq.created_at == frame.created_at.iloc[0].to_pydatetime()


def test_bad_rows_are_refused_with_file_row_and_field(tmp_path: Path) -> None:
    frame = short_tape(10)
    write_tape(frame, tmp_path / "good.csv")
    lines = (tmp_path / "good.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    rows[1][header.index("quantity_mw")] = "-5"
    rows[3][header.index("market_area")] = "XX"
    rows[4][header.index("created_at")] = "2026-03-02T09:00:00"  # no offset
    rows[5][header.index("competitor_price")] = "abc"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    tape = read_tape(path)
    found = {(p.row, p.field) for p in tape.problems}
    assert found == {
        (2, "quantity_mw"),
        (4, "market_area"),
        (5, "created_at"),
        (6, "competitor_price"),
    }
    assert len(tape) == len(frame) - 4
    assert str(tape.problems[0]).startswith(f"{path}: row 2: quantity_mw:")


def test_a_tape_without_a_required_column_is_refused(tmp_path: Path) -> None:
    frame = short_tape(5).drop(columns=["quote_deadline"])
    write_tape(frame, tmp_path / "t.parquet")
    with pytest.raises(TapeError, match="quote_deadline"):
        read_tape(tmp_path / "t.parquet")


def _row(**overrides: str) -> dict[str, str]:
    """A good one-way power row as CSV text; `overrides` replace fields."""
    row = {
        "id": "rfq-1",
        "created_at": "2026-03-02T09:00:00.123456+01:00",
        "quote_deadline": "2026-03-02T08:05:00Z",
        "action": "buy",
        "quote_type": "one-way",
        "commodity": "power",
        "market_area": "DE",
        "load": "base",
        "product_type": "month",
        "product_label": "Apr-26",
        "maturity_start": "2026-03-31T22:00:00Z",
        "maturity_end": "2026-04-30T22:00:00+00:00",
        "quantity_mw": "5",
        "requester_id": "c-1",
        "requester_name": "",
        "settlement": "",
        "load_shape": "",
        "requester_side": "",
        "competitor_price": "55.5",
        "requester_limit": "",
        "reference_price": "55.25",
        "cancel_at": "",
    }
    return row | overrides


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _at(month: int, day: int, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
    """An instant of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, second, ms * 1000, tzinfo=UTC)


SHAPE = {
    "resolution": "PT1H",
    "unit": "MW",
    "format": "24/25",
    "data": [
        {"interval-start": "2026-03-03T06:00:00+01:00", "quantity": {"value": 10}},
        {"interval-start": "2026-03-03T07:00:00+01:00", "quantity": {"value": 12.5}},
    ],
}


def test_hand_made_rows_read_into_the_rfqs_they_describe(tmp_path: Path) -> None:
    write_shape(SHAPE, tmp_path / "shapes" / "g.json")
    path = _csv(
        tmp_path / "tape.csv",
        [
            _row(
                id="gas-two-way-7",
                created_at="2026-03-02T09:30:00+01:00",
                quote_deadline="2026-03-02T10:00:00+01:00",
                action="",
                quote_type="two-way",
                commodity="gas",
                market_area=" TTF ",
                load="custom",
                product_type="custom",
                product_label="Custom 3 Mar",
                maturity_start="2026-03-03T06:00:00+01:00",
                maturity_end="2026-03-03T08:00:00+01:00",
                quantity_mw="12.5",
                requester_name="Gasworks AG",
                settlement="financial",
                load_shape="shapes/g.json",
                requester_side="sell",
                competitor_price="",
                requester_limit="30.1",
                cancel_at="2026-03-02T10:45:00.9999+02:00",
            ),
            _row(),
        ],
    )
    tape = read_tape(path)
    assert not tape.problems
    power = TapeRfq(
        rfq=Rfq(
            id="rfq-1",
            short_id="rfq-1",
            venue="entender",
            status=RfqStatus.OPEN,
            created_at=_at(3, 2, 8, 0, 0, 123),  # truncated to the millisecond
            updated_at=_at(3, 2, 8, 0, 0, 123),
            quote_deadline=_at(3, 2, 8, 5),
            requester_id="c-1",
            requester_name="c-1",
            action=Action.BUY,
            quote_type=QuoteType.ONE_WAY,
            instrument=Instrument(
                commodity=Commodity.POWER,
                market_area="DE",
                load=Load.BASE,
                settlement="physical",
                start=_at(3, 31, 22),
                end=_at(4, 30, 22),
                product_type=ProductType.MONTH,
                product_label="Apr-26",
            ),
            quantity_mw=5.0,
            shape_ref=None,
            currency="EUR",
            my_quote_status=MyQuoteStatus.NOT_QUOTED,
        ),
        shape=None,
        requester_side=Action.BUY,
        competitor_price=55.5,
        requester_limit=None,
        reference_price=55.25,
        cancel_at=None,
    )
    gas = TapeRfq(
        rfq=Rfq(
            id="gas-two-way-7",
            short_id="gas-two-",
            venue="entender",
            status=RfqStatus.OPEN,
            created_at=_at(3, 2, 8, 30),
            updated_at=_at(3, 2, 8, 30),
            quote_deadline=_at(3, 2, 9),
            requester_id="c-1",
            requester_name="Gasworks AG",
            action=None,
            quote_type=QuoteType.TWO_WAY,
            instrument=Instrument(
                commodity=Commodity.GAS,
                market_area="TTF",
                load=Load.CUSTOM,
                settlement="financial",
                start=_at(3, 3, 5),
                end=_at(3, 3, 7),
                product_type=ProductType.CUSTOM,
                product_label="Custom 3 Mar",
            ),
            quantity_mw=12.5,
            shape_ref="/rfqs/gas-two-way-7/load-shape",
            currency="EUR",
            my_quote_status=MyQuoteStatus.NOT_QUOTED,
        ),
        shape=read_shape(tmp_path / "shapes" / "g.json"),
        requester_side=Action.SELL,
        competitor_price=None,
        requester_limit=30.1,
        reference_price=55.25,
        cancel_at=_at(3, 2, 8, 45, 0, 999),
    )
    assert list(tape) == [power, gas]
    assert [tape.arrival(i) for i in range(len(tape))] == [power.rfq.created_at, gas.rfq.created_at]
    assert (tape.start, tape.end) == (power.rfq.created_at, gas.rfq.quote_deadline)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id": " "}, "id", "missing"),
        (
            {"created_at": "2026-03-02T09:00:00"},
            "created_at",
            "'2026-03-02T09:00:00' has no UTC offset",
        ),
        ({"quote_deadline": "soon"}, "quote_deadline", "not an instant: 'soon'"),
        # after created_at, but not once both are truncated to the millisecond
        (
            {"quote_deadline": "2026-03-02T08:00:00.1239Z"},
            "quote_deadline",
            "is not after created_at",
        ),
        ({"quote_type": "both"}, "quote_type", "'both' is not one of one-way | two-way"),
        ({"action": "hold"}, "action", "'hold' is not buy or sell"),
        ({"quote_type": "two-way"}, "action", "empty exactly when the RFQ is two-way"),
        (
            {"quote_type": "two-way", "action": ""},
            "requester_side",
            "a two-way RFQ needs the side the requester takes",
        ),
        ({"requester_side": "sell"}, "requester_side", "sell differs from action buy"),
        ({"quantity_mw": "-5", "market_area": "XX"}, "quantity_mw", "-5.0 is not positive"),
        ({"quantity_mw": "inf"}, "quantity_mw", "not finite: 'inf'"),
        ({"commodity": "gas"}, "market_area", "'DE' is not a gas area"),
        ({"load": "Base"}, "load", "'Base' is not one of base | peak | off-peak | custom"),
        (
            {"maturity_end": "2026-03-31T23:00:00+01:00"},
            "maturity_end",
            "2026-03-31T22:00:00+00:00 is not after maturity_start",
        ),
        (
            {"commodity": "gas", "market_area": "TTF", "load": "peak"},
            "load",
            "gas is delivered base, not peak",
        ),
        ({"product_label": ""}, "product_label", "missing"),
        (
            {"load_shape": "s.json"},
            "load_shape",
            "a custom load needs a load_shape file, and only it",
        ),
        ({"requester_id": ""}, "requester_id", "missing"),
        ({"competitor_price": "abc", "cancel_at": "x"}, "competitor_price", "not a number: 'abc'"),
        ({"requester_limit": "4000.5"}, "requester_limit", "4000.5 is outside [-500, 4000]"),
        ({"cancel_at": "2026-03-02 10:00"}, "cancel_at", "'2026-03-02 10:00' has no UTC offset"),
    ],
)
def test_a_refused_row_keeps_its_first_problem(
    tmp_path: Path, overrides: dict[str, str], field: str, message: str
) -> None:
    path = _csv(tmp_path / "t.csv", [_row(id="good"), _row(**overrides)])
    tape = read_tape(path)
    assert tape.problems == (TapeProblem(str(path), 2, field, message),)
    assert [t.id for t in tape] == ["good"]


def test_the_second_good_row_of_an_id_is_refused(tmp_path: Path) -> None:
    rows = [_row(id="x", quantity_mw="0"), _row(id="x"), _row(id=" x "), _row(id="y")]
    tape = read_tape(_csv(tmp_path / "t.csv", rows))
    assert [(p.row, p.field, p.message) for p in tape.problems] == [
        (1, "quantity_mw", "0.0 is not positive"),
        (3, "id", "'x' appears twice"),
    ]
    assert [t.id for t in tape] == ["x", "y"]


def test_rfqs_arrive_by_created_at_then_id(tmp_path: Path) -> None:
    rows = [
        _row(id="b", created_at="2026-03-02T08:00:01Z"),
        _row(id="a", created_at="2026-03-02T09:00:01+01:00"),
        _row(id="c", created_at="2026-03-02T07:59:59-00:00", quote_deadline="2026-03-02T09:00Z"),
    ]
    tape = read_tape(_csv(tmp_path / "t.csv", rows))
    assert [t.id for t in tape] == ["c", "a", "b"]
    assert [tape.arrival(i) for i in range(3)] == [t.rfq.created_at for t in tape]
    assert tape.entry(-1) == tape.entry(2)
    assert (tape.start, tape.end) == (_at(3, 2, 7, 59, 59), _at(3, 2, 9))


def test_parquet_and_csv_of_one_tape_read_alike(tmp_path: Path) -> None:
    frame = short_tape(30)
    write_tape(frame, tmp_path / "t.parquet")
    write_tape(frame, tmp_path / "t.csv")
    from_parquet = read_tape(tmp_path / "t.parquet")
    assert list(from_parquet) == list(read_tape(tmp_path / "t.csv"))
    assert list(from_parquet) == list(parse_frame(frame, "frame"))
    assert len(from_parquet) == len(frame)


def test_a_tape_without_a_usable_row_is_refused_whole(tmp_path: Path) -> None:
    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(REQUIRED) + "\n")
    with pytest.raises(TapeError, match=r"empty.csv: no usable rows \(0 refused\)"):
        read_tape(header_only)
    bad = short_tape(10).assign(quantity_mw=-1.0)
    with pytest.raises(TapeError, match=r"all-bad: no usable rows \(\d+ refused; the first: "):
        parse_frame(bad, "all-bad")
