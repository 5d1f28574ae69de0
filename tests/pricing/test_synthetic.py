from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from quoter.domain.market import Commodity, Load
from quoter.pricing.calendar import HOUR_S, grid, local_midnight_utc, local_seconds, peak_mask
from quoter.pricing.curve_files import load_curve_set
from quoter.pricing.synthetic import product_labels, synthetic_curve_set, synthetic_products
from tests.pricing.test_builder_cli import main

AS_OF = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
POWER_AREAS = ("DE", "FR", "NL")
GAS_AREAS = ("THE", "TTF")


def test_same_arguments_make_the_same_curves() -> None:
    first = synthetic_curve_set(AS_OF)
    assert synthetic_curve_set(AS_OF).id == first.id
    assert synthetic_curve_set(AS_OF, seed=1).id != first.id
    assert {area for _, area in first} == {*POWER_AREAS, *GAS_AREAS}


def test_covers_from_the_local_month_start_to_the_end_of_cal_plus_3() -> None:
    curves = synthetic_curve_set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December local
    de, the = curves[(Commodity.POWER, "DE")], curves[(Commodity.GAS, "THE")]
    assert de.start_s == int(local_midnight_utc(date(2026, 12, 1)).timestamp())
    assert de.end_s == int(local_midnight_utc(date(2030, 1, 1)).timestamp())
    assert the.start_s == int(local_midnight_utc(date(2026, 12, 1), 6).timestamp())
    assert the.end_s == int(local_midnight_utc(date(2030, 1, 1), 6).timestamp())
    cal_29 = de.mean(int(local_midnight_utc(date(2029, 1, 1)).timestamp()), de.end_s)
    assert 75 < cal_29 < 100


def test_products_tile_months_quarters_then_years() -> None:
    assert product_labels(2026, 11, 3) == [
        "Nov-26",
        "Dec-26",
        "Q1-27",
        "Q2-27",
        "Q3-27",
        "Q4-27",
        "Cal-28",
        "Cal-29",
    ]


def test_prices_are_realistic() -> None:
    curves = synthetic_curve_set(AS_OF)
    for area in POWER_AREAS:
        s = curves[(Commodity.POWER, area)]
        starts = grid(s.start_s, s.end_s, HOUR_S)
        cal_27 = (starts >= int(local_midnight_utc(date(2027, 1, 1)).timestamp())) & (
            starts < int(local_midnight_utc(date(2028, 1, 1)).timestamp())
        )
        base, peak = s.prices[cal_27].mean(), s.prices[cal_27 & peak_mask(starts)].mean()
        assert 80 < base < 100, area
        assert 1.1 < peak / base < 1.4, area
        assert s.prices.min() > 0
        assert s.prices.max() < 250
    de = curves[(Commodity.POWER, "DE")]
    assert 85 <= de.mean(de.start_s, de.start_s + 365 * 86400) <= 100
    for area in GAS_AREAS:
        prices = curves[(Commodity.GAS, area)].prices
        assert prices.min() > 28
        assert prices.max() < 42


def test_winter_is_dearer_and_weekends_cheaper() -> None:
    de = synthetic_curve_set(AS_OF)[(Commodity.POWER, "DE")]
    starts = grid(de.start_s, de.end_s, HOUR_S)
    local = local_seconds(starts).astype("datetime64[s]")
    month = local.astype("datetime64[M]").astype(int) % 12 + 1
    weekday = (local.astype("datetime64[D]").astype(int) + 3) % 7
    assert de.prices[np.isin(month, (1, 2))].mean() > de.prices[np.isin(month, (6, 7))].mean()
    assert de.prices[weekday >= 5].mean() < de.prices[weekday < 5].mean()


def test_gas_is_flat_within_each_gas_day() -> None:
    the = synthetic_curve_set(AS_OF)[(Commodity.GAS, "THE")]
    starts = grid(the.start_s, the.end_s, HOUR_S)
    gas_day = (local_seconds(starts) - 6 * HOUR_S) // 86400
    boundaries = np.flatnonzero(np.diff(the.prices)) + 1
    assert np.isin(boundaries, np.flatnonzero(np.diff(gas_day)) + 1).all()


def test_reproduces_its_own_products() -> None:
    curves = synthetic_curve_set(AS_OF)
    for p in synthetic_products(AS_OF):
        s = curves[p.key]
        starts = grid(p.start_s, p.end_s, HOUR_S)
        prices = s.prices[s.index(p.start_s) : s.index(p.end_s)]
        if p.load is Load.PEAK:
            prices = prices[peak_mask(starts)]
        assert abs(prices.mean() - p.price_eur_mwh) < 1e-9, p.name


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        synthetic_curve_set(datetime(2026, 1, 1))


def test_the_synth_command_writes_a_readable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "synthetic.parquet"
    assert (
        main(
            [
                "curves",
                "synth",
                "--out",
                str(out),
                "--as-of",
                "2026-11-20T17:30:00+01:00",
                "--years",
                "1",
            ]
        )
        == 0
    )
    load = load_curve_set(out)
    assert load.problems == ()
    assert load.curve_set.id == synthetic_curve_set(AS_OF, years=1).id
    assert "wrote" in capsys.readouterr().out
