import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quoter.domain.market import Commodity
from quoter.engine.curve_watch import curve_age_s
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.curve_export import write_curve_set
from quoter.pricing.curve_files import CurveProblem, load_curve_set

START = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 local, the night before summer time
BERLIN = "Europe/Berlin"
DATA = Path(__file__).resolve().parent.parent / "data" / "curves"


def series_rows(
    area: str = "DE",
    commodity: str = "power",
    *,
    hours: int = 48,
    step_min: int = 60,
    level: float = 80.0,
    as_of: str | None = None,
) -> list[str]:
    count = hours * 60 // step_min
    starts = pd.date_range(START, periods=count, freq=f"{step_min}min").tz_convert(BERLIN)
    rows = []
    for i, start in enumerate(starts):
        row = f"{commodity},{area},{start.isoformat()},{level + i % 7!r}"
        rows.append(row + (f",{as_of}" if as_of else ""))
    return rows


def write_csv(path: Path, rows: list[str], *, as_of: bool = False) -> Path:
    header = "commodity,market_area,start,price" + (",as_of" if as_of else "")
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def only(problems: tuple[CurveProblem, ...]) -> CurveProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_reads_several_series_of_one_csv_across_the_clock_change(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "c.csv", series_rows("DE") + series_rows("THE", "gas", level=30))
    load = load_curve_set(file)
    assert load.problems == ()
    de = load.curve_set[(Commodity.POWER, "DE")]
    assert (de.start_s, de.step_s, de.prices.size) == (int(START.timestamp()), 3600, 48)
    assert de.prices[:3].tolist() == [80.0, 81.0, 82.0]
    assert (Commodity.GAS, "THE") in load.curve_set
    assert load.sources[(Commodity.POWER, "DE")] == (str(file),)


def test_reads_15_minute_series_and_gas_flat_per_gas_day(tmp_path: Path) -> None:
    gas = [
        f"gas,TTF,{t.isoformat()},{31.5 if t.hour >= 6 else 30.0}"
        for t in pd.date_range("2026-06-01T00:00+02:00", periods=48, freq="h")
    ]
    file = write_csv(tmp_path / "c.csv", series_rows("FR", step_min=15) + gas)
    load = load_curve_set(file)
    assert load.problems == ()
    assert load.curve_set[(Commodity.POWER, "FR")].step_s == 900
    assert load.curve_set[(Commodity.POWER, "FR")].prices.size == 192
    assert load.curve_set[(Commodity.GAS, "TTF")].prices.size == 48


def test_merges_the_files_of_a_folder_and_a_series_split_over_files(tmp_path: Path) -> None:
    rows = series_rows("DE", hours=48)
    write_csv(tmp_path / "a.csv", rows[:24] + series_rows("NL"))
    write_csv(tmp_path / "b.csv", rows[24:])
    (tmp_path / "notes.txt").write_text("not a curve")
    load = load_curve_set(tmp_path)
    assert load.problems == ()
    assert load.curve_set[(Commodity.POWER, "DE")].prices.size == 48
    assert len(load.sources[(Commodity.POWER, "DE")]) == 2
    assert set(load.curve_set) == {(Commodity.POWER, "DE"), (Commodity.POWER, "NL")}


def test_unsorted_rows_are_put_in_order(tmp_path: Path) -> None:
    rows = series_rows("DE")
    load = load_curve_set(write_csv(tmp_path / "c.csv", rows[::-1]))
    assert load.curve_set[(Commodity.POWER, "DE")].prices[:2].tolist() == [80.0, 81.0]


@pytest.mark.parametrize(
    ("line", "replace", "column", "words"),
    [
        (3, lambda r: r.replace("+01:00", "+0x:00"), "start", "not a timestamp"),
        (3, lambda r: r.replace("+01:00", ""), "start", "UTC offset"),
        (7, lambda r: r.rsplit(",", 1)[0] + ",NaN", "price", "finite"),
        (7, lambda r: r.rsplit(",", 1)[0] + ",inf", "price", "finite"),
        (7, lambda r: r.rsplit(",", 1)[0] + ",abc", "price", "'abc'"),
        (7, lambda r: r.rsplit(",", 1)[0] + ",", "price", "finite"),
    ],
)
def test_bad_values_refuse_their_series_naming_file_row_and_column(
    tmp_path: Path, line: int, replace: object, column: str, words: str
) -> None:
    rows = series_rows("DE")
    assert callable(replace)
    rows[line - 2] = replace(rows[line - 2])
    file = write_csv(tmp_path / "c.csv", rows + series_rows("FR"))
    load = load_curve_set(file)
    problem = only(load.problems)
    assert (problem.file, problem.row, problem.column, problem.series) == (
        str(file),
        line,
        column,
        ("power", "DE"),
    )
    assert words in problem.message
    assert f"c.csv, row {line}, column {column}" in str(problem)
    assert set(load.curve_set) == {(Commodity.POWER, "FR")}


def test_many_bad_rows_make_one_bounded_problem(tmp_path: Path) -> None:
    rows = [r.rsplit(",", 1)[0] + ",nan" for r in series_rows("DE")]
    problem = only(load_curve_set(write_csv(tmp_path / "c.csv", rows)).problems)
    assert problem.row == 2
    assert "47 more rows" in problem.message


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        (lambda rows: rows.insert(10, rows[9]), 12, "duplicated interval"),
        (lambda rows: rows.pop(10), 12, "1 missing interval(s) from 2026-03-29T08:00:00Z"),
    ],
)
def test_duplicated_and_missing_intervals_are_named(
    tmp_path: Path, edit: object, line: int, words: str
) -> None:
    rows = series_rows("DE")
    assert callable(edit)
    edit(rows)
    load = load_curve_set(write_csv(tmp_path / "c.csv", rows + series_rows("NL")))
    problem = only(load.problems)
    assert (problem.row, problem.column) == (line, "start")
    assert words in problem.message
    assert set(load.curve_set) == {(Commodity.POWER, "NL")}


def test_mixed_resolutions_within_a_series_are_refused(tmp_path: Path) -> None:
    hourly = series_rows("DE", hours=24)
    quarter = series_rows("DE", hours=48, step_min=15)[96:]  # the second day, every 15 minutes
    problem = only(load_curve_set(write_csv(tmp_path / "c.csv", hourly + quarter)).problems)
    assert problem.column == "start"
    assert "mixed resolutions" in problem.message


def test_a_half_hourly_series_is_refused(tmp_path: Path) -> None:
    problem = only(load_curve_set(write_csv(tmp_path / "c.csv", series_rows(step_min=30))).problems)
    assert "15 or 60 minutes" in problem.message


@pytest.mark.parametrize(
    ("commodity", "area", "column"),
    [("coal", "DE", "commodity"), ("power", "XX", "market_area"), ("gas", "DE", "market_area")],
)
def test_unknown_commodity_or_area_is_refused(
    tmp_path: Path, commodity: str, area: str, column: str
) -> None:
    rows = series_rows(area, commodity) + series_rows("FR")
    load = load_curve_set(write_csv(tmp_path / "c.csv", rows))
    problem = only(load.problems)
    assert (problem.row, problem.column) == (2, column)
    assert set(load.curve_set) == {(Commodity.POWER, "FR")}


def test_a_missing_column_refuses_that_file_only(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("commodity,market_area,begin,price\npower,DE,x,1\n")
    write_csv(tmp_path / "good.csv", series_rows("FR"))
    load = load_curve_set(tmp_path)
    problem = only(load.problems)
    assert (problem.file, problem.column, problem.series) == (
        str(tmp_path / "bad.csv"),
        "start",
        None,
    )
    assert "missing column 'start'" in problem.message
    assert load.failed_files == {str(tmp_path / "bad.csv")}
    assert set(load.curve_set) == {(Commodity.POWER, "FR")}


def test_a_malformed_csv_and_an_empty_folder_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("commodity,market_area,start,price\npower,DE,x,1,2,3\n")
    first = only(load_curve_set(tmp_path / "bad.csv").problems)
    assert (first.row, first.message) == (2, "more fields than the header names")
    (tmp_path / "bad.csv").write_text(
        "commodity,market_area,start,price\npower,DE,x,1\n1,2,3,4,5\n"
    )
    assert "cannot read" in only(load_curve_set(tmp_path / "bad.csv").problems).message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *.csv" in only(load_curve_set(empty).problems).message


def test_as_of_comes_from_the_column(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "c.csv", series_rows(as_of="2026-03-27T17:30:00+01:00"), as_of=True)
    de = load_curve_set(file).curve_set[(Commodity.POWER, "DE")]
    assert de.as_of == datetime(2026, 3, 27, 16, 30, tzinfo=UTC)
    assert curve_age_s(de, datetime(2026, 3, 27, 18, 30, tzinfo=UTC)) == 7200.0


def test_as_of_comes_from_the_file_time_without_the_column(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "c.csv", series_rows())
    stamp = datetime(2026, 3, 27, 12, 0, 0, 250000, tzinfo=UTC)
    stamp_ns = (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    os.utime(file, ns=(stamp_ns, stamp_ns))
    de = load_curve_set(file).curve_set[(Commodity.POWER, "DE")]
    assert de.as_of == stamp
    assert de.as_of.tzinfo is UTC


def test_inconsistent_as_of_within_a_series_is_refused(tmp_path: Path) -> None:
    rows = series_rows(as_of="2026-03-27T17:30:00Z")
    rows[5] = rows[5].replace("17:30", "18:30")
    problem = only(load_curve_set(write_csv(tmp_path / "c.csv", rows, as_of=True)).problems)
    assert (problem.row, problem.column) == (7, "as_of")
    assert "inconsistent as_of" in problem.message


def test_a_split_series_takes_the_oldest_as_of(tmp_path: Path) -> None:
    rows = series_rows()
    write_csv(tmp_path / "a.csv", [r + ",2026-03-27T10:00Z" for r in rows[:24]], as_of=True)
    write_csv(tmp_path / "b.csv", [r + ",2026-03-27T12:00Z" for r in rows[24:]], as_of=True)
    de = load_curve_set(tmp_path).curve_set[(Commodity.POWER, "DE")]
    assert de.as_of == datetime(2026, 3, 27, 10, tzinfo=UTC)


def test_parquet_reads_tz_aware_starts_and_names_0_based_rows(tmp_path: Path) -> None:
    starts = pd.date_range(START, periods=24, freq="h").tz_convert(BERLIN)
    prices = np.linspace(50, 70, 24)
    prices[3] = np.nan
    frame = pd.DataFrame(
        {"commodity": "power", "market_area": "DE", "start": starts, "price": prices}
    )
    good = frame.assign(market_area="AT", price=1.5)
    file = tmp_path / "c.parquet"
    pd.concat([frame, good]).to_parquet(file)
    load = load_curve_set(file)
    problem = only(load.problems)
    assert (problem.row, problem.column) == (3, "price")
    assert "row 3 (0-based), column price" in str(problem)
    assert load.curve_set[(Commodity.POWER, "AT")].start_s == int(START.timestamp())


def test_parquet_with_naive_timestamps_is_refused(tmp_path: Path) -> None:
    starts = pd.date_range("2026-01-01", periods=3, freq="h")
    file = tmp_path / "c.parquet"
    pd.DataFrame(
        {"commodity": "power", "market_area": "DE", "start": starts, "price": 1.0}
    ).to_parquet(file)
    problem = only(load_curve_set(file).problems)
    assert (problem.column, problem.series) == ("start", None)
    assert "timezone-aware" in problem.message


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_then_read_is_exact(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(7)
    as_of = datetime(2026, 3, 27, 16, 45, 12, 345678, tzinfo=UTC)
    series = {
        (Commodity.POWER, "DE"): CurveSeries(
            Commodity.POWER, "DE", int(START.timestamp()), 900, rng.normal(80, 30, 500), as_of, "x"
        ),
        (Commodity.GAS, "THE"): CurveSeries(
            Commodity.GAS,
            "THE",
            int(START.timestamp()),
            3600,
            rng.normal(30, 5, 100) / 3,
            as_of,
            "x",
        ),
    }
    original = CurveSet(series)
    write_curve_set(original, tmp_path / f"out{suffix}")
    load = load_curve_set(tmp_path / f"out{suffix}")
    assert load.problems == ()
    assert load.curve_set.id == original.id
    for key, s in original.items():
        assert np.array_equal(load.curve_set[key].prices, s.prices)


def test_the_shipped_example_export_reads_clean() -> None:
    load = load_curve_set(DATA)
    assert load.problems == ()
    assert {key[1] for key in load.curve_set} == {"DE", "THE"}
    assert load.curve_set[(Commodity.GAS, "THE")].as_of == datetime(2026, 3, 27, 17, tzinfo=UTC)
    assert timedelta(seconds=load.curve_set[(Commodity.POWER, "DE")].step_s) == timedelta(hours=1)


def test_a_byte_order_mark_and_blank_lines_keep_columns_and_line_numbers(tmp_path: Path) -> None:
    rows = series_rows("DE")
    rows.insert(4, "")  # a blank line 6
    rows[9] = rows[9].rsplit(",", 1)[0] + ",x"  # line 11 as an editor shows it
    file = tmp_path / "c.csv"
    text = "\n".join(["commodity,market_area,start,price", *rows, ""])
    file.write_bytes(b"\xef\xbb\xbf" + text.encode())
    problem = only(load_curve_set(file).problems)
    assert (problem.row, problem.column) == (11, "price")
    rows[9] = series_rows("DE")[8]
    file.write_bytes(
        b"\xef\xbb\xbf" + "\n".join(["commodity,market_area,start,price", *rows]).encode()
    )
    assert load_curve_set(file).curve_set[(Commodity.POWER, "DE")].prices.size == 48
