from pathlib import Path

from quoter.config import load_config, require_risk
from quoter.pricing.config import CurvesConfig
from quoter.risk.config import DEMO_RISK, RiskConfig

EXAMPLE = Path(__file__).parent.parent / "config" / "example.toml"


def test_the_documented_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    risk = require_risk(config, str(EXAMPLE))
    assert config.venue.base_url.startswith("https://")
    assert risk.max_open_quotes == 40
    assert "DE" in risk.allowed_areas
    assert risk.price_band_eur_mwh == RiskConfig.model_fields["price_band_eur_mwh"].get_default(
        call_default_factory=True
    )
    assert config.curves.bands == CurvesConfig().bands
    assert config.curves.max_jump_share == 0.5


SAMPLE_DESK = Path(__file__).parent.parent / "backtests" / "sample-desk.toml"


def test_the_sample_desk_is_the_demo_desk_with_credit_for_a_month() -> None:
    """What the README's backtest replays the sample month with: the demo's limits (a day in
    the sandbox), but for credit, which a month of the sample's flow needs more of."""
    risk = require_risk(load_config(SAMPLE_DESK), str(SAMPLE_DESK))
    assert risk.credit_limit_eur == 10 * DEMO_RISK.credit_limit_eur
    assert risk.model_copy(update={"credit_limit_eur": DEMO_RISK.credit_limit_eur}) == DEMO_RISK
