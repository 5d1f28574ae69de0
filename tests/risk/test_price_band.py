"""The fat-finger limit: an absolute price band per commodity that no curve or strategy moves."""

import pytest
from pydantic import ValidationError

from quoter.domain import Commodity, QuoteType
from quoter.risk.checks import check, check_exposure
from quoter.risk.config import DEFAULT_PRICE_BANDS, PriceBand
from tests.factories import make_instrument, make_rfq
from tests.risk.test_checks import failures, make_book, make_config, make_proposal


def test_a_price_the_curve_agrees_with_is_still_refused_outside_the_band() -> None:
    config = make_config()
    # The mid is the strategy's (from the same absurd curve): collar and drift pass.
    absurd = make_proposal(prices=(90_000.0,), mid=90_000.0, energy_mwh=1.0, buckets_mwh={})
    assert failures(config, make_book(config), absurd) == {"price-band"}
    verdict = check(config, make_book(config).view(absurd, now_s=0, curve_age_s=1), absurd)
    (failed,) = verdict.failures
    assert "90000.000 EUR/MWh outside the power band [-500, 4000]" in failed.detail


@pytest.mark.parametrize(
    ("prices", "refused"),
    [((4000.0,), False), ((-500.0,), False), ((4000.01,), True), ((-500.01,), True)],
)
def test_the_default_power_band_is_the_venue_limits(
    prices: tuple[float, ...], refused: bool
) -> None:
    config = make_config(
        collar={"max_distance_eur_mwh": 1e9, "max_drift_eur_mwh": 1e9, "drift_window_s": 60}
    )
    p = make_proposal(prices=prices, mid=prices[0], energy_mwh=1.0, buckets_mwh={})
    assert ("price-band" in failures(config, make_book(config), p)) is refused


def test_either_side_of_a_two_way_quote_outside_the_band_refuses_it() -> None:
    config = make_config(price_band_eur_mwh={"power": {"min_eur_mwh": 0, "max_eur_mwh": 200}})
    rfq = make_rfq(quote_type=QuoteType.TWO_WAY, action=None)
    p = make_proposal(rfq=rfq, prices=(199.0, 201.0), mid=200.0, energy_mwh=1.0, buckets_mwh={})
    assert "price-band" in failures(config, make_book(config), p)


def test_a_gas_quote_is_held_to_the_gas_band_and_a_named_commodity_keeps_the_others() -> None:
    config = make_config(price_band_eur_mwh={"power": {"min_eur_mwh": 0, "max_eur_mwh": 200}})
    assert config.price_band_eur_mwh[Commodity.GAS] == DEFAULT_PRICE_BANDS[Commodity.GAS]
    gas = make_rfq(instrument=make_instrument(commodity=Commodity.GAS, market_area="THE"))
    p = make_proposal(rfq=gas, prices=(1500.0,), mid=1500.0, energy_mwh=1.0, buckets_mwh={})
    assert "price-band" in failures(config, make_book(config), p)


def test_an_adopted_quote_outside_the_band_is_not_kept() -> None:
    config = make_config()
    p = make_proposal(prices=(-9999.0,), mid=-9999.0, energy_mwh=1.0, buckets_mwh={})
    verdict = check_exposure(config, make_book(config).view(p, now_s=0, curve_age_s=1), p)
    assert [r.code for r in verdict.failures] == ["price-band"]


def test_a_band_upside_down_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="min_eur_mwh must be below max_eur_mwh"):
        PriceBand(min_eur_mwh=100.0, max_eur_mwh=10.0)
