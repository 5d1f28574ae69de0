from pathlib import Path

from quoter.config import load_config, require_risk

EXAMPLE = Path(__file__).parent.parent / "config" / "example.toml"


def test_the_documented_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    risk = require_risk(config, str(EXAMPLE))
    assert config.venue.base_url.startswith("https://")
    assert risk.max_open_quotes == 40
    assert "DE" in risk.allowed_areas
