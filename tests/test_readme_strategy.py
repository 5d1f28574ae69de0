"""The README's strategy example works as written: loaded by module path, it prices an RFQ."""

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from quoter.cli import main
from quoter.strategies_api import StrategyLoadError, load_strategy

ROOT = Path(__file__).parent.parent


@pytest.fixture
def readme_strategy(tmp_path: Path) -> Iterator[None]:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    example = next(b for b in blocks if "class FixedSpread" in b)
    package = tmp_path / "my_desk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fixed_spread.py").write_text(example)
    sys.path.insert(0, str(tmp_path))
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("my_desk")]:
            del sys.modules[name]


@pytest.mark.usefixtures("readme_strategy")
def test_the_readme_strategy_prices_through_quoter_price(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rfq = ROOT / "config" / "examples" / "rfq-cal27-base.json"
    code = main(
        [
            "price",
            str(rfq),
            "--strategy",
            "my_desk.fixed_spread:FixedSpread",
            "--param",
            "half_spread_eur_mwh=0.8",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "quote"
    assert result["components"]["half-spread"] == 0.8
    assert result["price"] == pytest.approx(round(result["mid"] + 0.8, 3))


@pytest.mark.usefixtures("readme_strategy")
@pytest.mark.parametrize("value", [-3, float("nan"), float("inf"), "0.8", 51])
def test_the_readme_strategy_refuses_a_bad_half_spread(value: object) -> None:
    with pytest.raises(StrategyLoadError, match="half_spread_eur_mwh"):
        load_strategy("my_desk.fixed_spread:FixedSpread", {"half_spread_eur_mwh": value})
