from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.domain.market import Commodity, Load
from quoter.pricing.builder import build_curve_set, build_prices, build_series
from quoter.pricing.calendar import grid, local_midnight_utc, peak_mask
from quoter.pricing.curve import CurveSeries
from quoter.pricing.curve_inputs import (
    BuildError,
    Product,
    ShapeProfile,
    default_shape,
    delivery_dates,
    make_product,
    parse_products,
    parse_shape,
    shape_factors,
)

AS_OF = datetime(2026, 11, 20, 17, tzinfo=UTC)
POWER, GAS = Commodity.POWER, Commodity.GAS
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def power(label: str, price: float, load: Load = Load.BASE, area: str = "DE") -> Product:
    return make_product(POWER, area, label, load, price)


def product_mean(series: CurveSeries, p: Product) -> float:
    starts = grid(p.start_s, p.end_s, series.step_s)
    i = (p.start_s - series.start_s) // series.step_s
    prices = series.prices[i : i + starts.size]
    if p.load is Load.PEAK:
        prices = prices[peak_mask(starts)]
    return float(prices.mean())


def assert_reproduced(series: CurveSeries, products: list[Product]) -> None:
    for p in products:
        assert abs(product_mean(series, p) - p.price_eur_mwh) <= 1e-9, p.name


@pytest.mark.parametrize(
    ("label", "first", "end"),
    [
        ("Cal-27", date(2027, 1, 1), date(2028, 1, 1)),
        ("Q4-27", date(2027, 10, 1), date(2028, 1, 1)),
        ("Sum-27", date(2027, 4, 1), date(2027, 10, 1)),
        ("Win-27", date(2027, 10, 1), date(2028, 4, 1)),
        ("GY-27", date(2027, 10, 1), date(2028, 10, 1)),
        ("Dec-2027", date(2027, 12, 1), date(2028, 1, 1)),
        ("jan-27", date(2027, 1, 1), date(2027, 2, 1)),
    ],
)
def test_product_labels_name_their_delivery_days(label: str, first: date, end: date) -> None:
    assert delivery_dates(label) == (first, end)


def test_power_starts_at_local_midnight_and_gas_at_six() -> None:
    assert power("Cal-27", 1).start_s == int(datetime(2026, 12, 31, 23, tzinfo=UTC).timestamp())
    gas = make_product(GAS, "THE", "Sum-27", Load.BASE, 1)
    assert gas.start_s == int(datetime(2027, 4, 1, 4, tzinfo=UTC).timestamp())
    assert gas.end_s == int(datetime(2027, 10, 1, 4, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((POWER, "DE", "Cal-27x", Load.BASE, 1.0), "unknown product"),
        ((POWER, "DE", "Foo-27", Load.BASE, 1.0), "unknown product"),
        ((GAS, "THE", "Cal-27", Load.PEAK, 1.0), "base or (power) peak"),
        ((POWER, "DE", "Cal-27", Load.OFF_PEAK, 1.0), "base or (power) peak"),
        ((POWER, "THE", "Cal-27", Load.BASE, 1.0), "unknown power market area"),
        ((POWER, "DE", "Cal-27", Load.BASE, float("nan")), "finite"),
    ],
)
def test_bad_products_are_refused(
    args: tuple[Commodity, str, str, Load, float], words: str
) -> None:
    with pytest.raises(BuildError, match=words.replace("(", r"\(").replace(")", r"\)")):
        make_product(*args)


def test_parse_products_reads_the_csv_format_and_names_bad_rows() -> None:
    text = "# comment\ncommodity,market_area,product,load,price\npower,DE,Q1-27,peak,120.5\n"
    (p,) = parse_products(text)
    assert (p.label, p.load, p.price_eur_mwh) == ("Q1-27", Load.PEAK, 120.5)
    with pytest.raises(BuildError, match=r"x.csv, row 3: .*'coal'"):
        parse_products(
            "commodity,market_area,product,load,price\npower,DE,Q1-27,base,1\ncoal,DE,Q1-27,base,1\n",
            "x.csv",
        )
    with pytest.raises(BuildError, match="missing column price"):
        parse_products("commodity,market_area,product,load\n", "x.csv")


def test_inconsistent_year_and_quarters_are_refused_with_their_names() -> None:
    quarters = [power(f"Q{q}-27", 80 + 5 * q) for q in range(1, 5)]
    with pytest.raises(BuildError) as error:
        build_series([power("Cal-27", 90.0), *quarters], default_shape(POWER), AS_OF)
    message = str(error.value)
    assert "power/DE Cal-27 base at 90.000000 contradicts" in message
    assert all(f"Q{q}-27 base" in message for q in range(1, 5))


def test_a_consistent_redundant_year_is_accepted() -> None:
    quarters = [power(f"Q{q}-27", 80 + 5 * q) for q in range(1, 5)]
    hours = np.array([p.end_s - p.start_s for p in quarters], dtype=float)
    year = float(hours @ [p.price_eur_mwh for p in quarters] / hours.sum())
    products = [*quarters, power("Cal-27", year), power("Q2-27", 90.0)]
    assert_reproduced(build_series(products, default_shape(POWER), AS_OF), products)


def test_a_duplicate_at_another_price_is_refused() -> None:
    with pytest.raises(
        BuildError, match=r"Jan-27 base at 91\.000000 contradicts power/DE Jan-27 base"
    ):
        build_series([power("Jan-27", 90.0), power("Jan-27", 91.0)], default_shape(POWER), AS_OF)


def test_a_gap_in_base_cover_is_refused() -> None:
    products = [power("Jan-27", 90.0), power("Mar-27", 80.0), power("Feb-27", 99.0, Load.PEAK)]
    with pytest.raises(BuildError, match="no base product covers 2027-01-31T23:00:00"):
        build_series(products, default_shape(POWER), AS_OF)


def test_peak_products_move_peak_and_off_peak_hours_by_one_amount_each() -> None:
    base, peak = power("Jan-27", 100.0), power("Jan-27", 130.0, Load.PEAK)
    starts = grid(base.start_s, base.end_s, 3600)
    factors = shape_factors(default_shape(POWER), POWER, starts)
    shaped = 100.0 * factors / factors.mean()
    curve = build_prices([base, peak], factors, starts)
    moved, is_peak = curve - shaped, peak_mask(starts)
    assert np.ptp(moved[is_peak]) < 1e-9
    assert np.ptp(moved[~is_peak]) < 1e-9
    assert moved[is_peak][0] > 0 > moved[~is_peak][0]
    assert abs(curve.mean() - 100.0) < 1e-9
    assert abs(curve[is_peak].mean() - 130.0) < 1e-9


def test_gas_is_flat_within_each_gas_day() -> None:
    products = [
        make_product(GAS, "TTF", label, Load.BASE, p)
        for label, p in [("Win-26", 38.0), ("Jan-27", 41.0)]
    ]
    series = build_series(products, default_shape(GAS), AS_OF)
    assert_reproduced(series, products)
    days = series.prices.reshape(-1)[: 24 * 20]
    first_day_hours = (
        local_midnight_utc(date(2026, 10, 2), 6).timestamp() - series.start_s
    ) // 3600
    assert first_day_hours == 24
    assert np.ptp(days[:24]) == 0
    assert np.ptp(days[24:48]) == 0
    assert days[47] != days[48]  # Friday 2 October, then a Saturday


def test_quarter_hourly_output_keeps_every_price() -> None:
    products = [power("Q1-27", 100.0), power("Q1-27", 120.0, Load.PEAK)]
    series = build_series(products, default_shape(POWER), AS_OF, step_s=900)
    assert series.step_s == 900
    assert_reproduced(series, products)


def test_shape_file_round_trip_and_errors() -> None:
    header = "commodity,month,day_type,hour,factor\n"
    rows = [
        f"power,{m},{d},{h},{1 + h / 100}"
        for m in range(1, 13)
        for d in ("weekday", "weekend")
        for h in range(24)
    ]
    shapes = parse_shape(header + "\n".join(rows))
    assert shapes[POWER].factors[0, 1, 23] == 1.23
    with pytest.raises(BuildError, match="every month"):
        parse_shape(header + "\n".join(rows[:-1]))
    with pytest.raises(BuildError, match="row 2"):
        parse_shape(header + "power,13,weekday,0,1\n")
    with pytest.raises(BuildError, match="positive"):
        parse_shape(header + "\n".join(rows).replace(",1.0\n", ",-1\n"))


def test_build_curve_set_makes_one_series_per_market() -> None:
    products = [
        power("Q1-27", 100.0),
        power("Q1-27", 90.0, area="FR"),
        make_product(GAS, "THE", "Q1-27", Load.BASE, 40.0),
    ]
    curves = build_curve_set(products, AS_OF)
    assert set(curves) == {(POWER, "DE"), (POWER, "FR"), (GAS, "THE")}
    assert curves[(POWER, "FR")].as_of == AS_OF


@st.composite
def consistent_products(draw: st.DrawFn) -> tuple[list[Product], ShapeProfile]:
    year = draw(st.integers(2026, 2031)) % 100
    commodity = draw(st.sampled_from([POWER, GAS]))
    area = "DE" if commodity is POWER else "THE"
    prices = st.floats(-20.0, 300.0, allow_nan=False)
    products: list[Product] = []
    for q in range(1, 5):
        months = [f"{m}-{year}" for m in MONTHS[3 * q - 3 : 3 * q]]
        for label in months if draw(st.booleans()) else [f"Q{q}-{year}"]:
            products.append(make_product(commodity, area, label, Load.BASE, draw(prices)))
            if commodity is POWER and draw(st.booleans()):
                products.append(make_product(commodity, area, label, Load.PEAK, draw(prices)))
    base = [p for p in products if p.load is Load.BASE]
    if draw(st.booleans()):  # a redundant year at exactly the hour-weighted mean
        hours = np.array([p.end_s - p.start_s for p in base], dtype=float)
        year_price = float(hours @ [p.price_eur_mwh for p in base] / hours.sum())
        products.append(make_product(commodity, area, f"Cal-{year}", Load.BASE, year_price))
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    spread = draw(st.floats(0.0, 2.0))
    return products, ShapeProfile(np.exp(rng.normal(0, spread, (12, 2, 24))))


@settings(max_examples=60, deadline=None)
@given(consistent_products())
def test_every_product_mean_is_reproduced_exactly(case: tuple[list[Product], ShapeProfile]) -> None:
    products, profile = case
    series = build_series(products, profile, AS_OF)
    assert_reproduced(series, products)
