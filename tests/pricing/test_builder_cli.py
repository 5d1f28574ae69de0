import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

from quoter.commands.curves import register
from quoter.domain.market import Commodity, Load
from quoter.pricing.calendar import grid, peak_mask
from quoter.pricing.curve_files import load_curve_set
from quoter.pricing.curve_inputs import parse_products


def main(argv: Sequence[str]) -> int:
    """`quoter curves` on a parser of its own, so these tests do not depend on other commands."""
    parser = argparse.ArgumentParser(prog="quoter")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "curves" / "products.csv"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_build_writes_a_curve_file_that_reproduces_the_example_products(
    tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"curve{suffix}"
    assert (
        main(["curves", "build", str(EXAMPLE), "--as-of", "2026-11-20T17:00Z", "--out", str(out)])
        == 0
    )
    load = load_curve_set(out)
    assert load.problems == ()
    for p in parse_products(EXAMPLE.read_text()):
        s = load.curve_set[p.key]
        prices = s.prices[s.index(p.start_s) : s.index(p.end_s)]
        if p.load is Load.PEAK:
            prices = prices[peak_mask(grid(p.start_s, p.end_s, 3600))]
        assert abs(prices.mean() - p.price_eur_mwh) < 1e-9, p.name


def test_build_refuses_contradicting_products(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    products = tmp_path / "p.csv"
    products.write_text(
        "commodity,market_area,product,load,price\npower,DE,Q1-27,base,90\npower,DE,Jan-27,base,1\npower,DE,Feb-27,base,1\npower,DE,Mar-27,base,1\n"
    )
    assert (
        main(
            [
                "curves",
                "build",
                str(products),
                "--out",
                str(tmp_path / "c.csv"),
                "--as-of",
                "2026-01-01T00:00Z",
            ]
        )
        == 1
    )
    assert "Q1-27 base at 90.000000 contradicts" in capsys.readouterr().err
    out = tmp_path / "c.csv"
    loose = ["curves", "build", str(products), "--out", str(out), "--tolerance", "100"]
    assert main([*loose, "--as-of", "2026-01-01T00:00Z"]) == 0
    assert load_curve_set(out).curve_set[(Commodity.POWER, "DE")].prices.mean() == pytest.approx(
        1.0
    )


def test_build_with_a_shape_file_and_15_minute_output(tmp_path: Path) -> None:
    shape = tmp_path / "shape.csv"
    rows = [
        f"power,{m},{d},{h},{2.0 if 8 <= h < 20 else 1.0}"
        for m in range(1, 13)
        for d in ("weekday", "weekend")
        for h in range(24)
    ]
    shape.write_text("commodity,month,day_type,hour,factor\n" + "\n".join(rows) + "\n")
    products = tmp_path / "p.csv"
    products.write_text("commodity,market_area,product,load,price\npower,NL,Jan-27,base,90\n")
    out = tmp_path / "c.csv"
    args = [
        "curves",
        "build",
        str(products),
        "--shape",
        str(shape),
        "--resolution",
        "15",
        "--out",
        str(out),
        "--as-of",
        "2026-12-01T00:00Z",
    ]
    assert main(args) == 0
    (series,) = load_curve_set(out).curve_set.values()
    assert series.step_s == 900
    assert abs(series.prices.mean() - 90.0) < 1e-9
    assert series.prices.max() / series.prices.min() == pytest.approx(2.0)


def test_check_lists_problems_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("commodity,market_area,start,price\npower,DE,2026-01-01T00:00Z,nan\n")
    assert main(["curves", "check", str(bad)]) == 1
    assert "row 2, column price" in capsys.readouterr().err
