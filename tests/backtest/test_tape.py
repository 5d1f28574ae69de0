from __future__ import annotations

from pathlib import Path

import pytest

from quoter.backtest.tape import TapeError, read_tape, write_tape
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
