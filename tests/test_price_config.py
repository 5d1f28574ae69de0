"""`quoter price --config DESK` prices with what the desk quotes with: its [engine.strategy] and
parameters (a --param updates them, a --strategy replaces them), and a desk file whose strategy
`quoter run` would refuse is refused here too, not priced with a default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quoter.cli import main

ROOT = Path(__file__).resolve().parent.parent
RFQ = ROOT / "config" / "examples" / "rfq-cal27-base.json"
RISK = (ROOT / "backtests" / "sample-desk.toml").read_text()


def _desk(tmp_path: Path, strategy: str) -> Path:
    path = tmp_path / "desk.toml"
    path.write_text(strategy + "\n" + RISK)
    return path


def _priced(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["price", str(RFQ), *argv]) == 0
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def _credit(report: dict[str, object]) -> object:
    assert report["decision"] == "quote"
    components = report["components"]
    assert isinstance(components, dict)
    return components["credit"]


def test_the_desks_strategy_and_parameters_price_the_rfq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(
        tmp_path,
        '[engine.strategy]\nname = "curve_spread"\n'
        "[engine.strategy.params]\ncredit_default_eur_mwh = 1.5",
    )
    assert _credit(_priced(capsys, "--config", str(desk))) == 1.5
    updated = _priced(capsys, "--config", str(desk), "--param", "credit_default_eur_mwh=2.5")
    assert _credit(updated) == 2.5
    named = _priced(capsys, "--config", str(desk), "--strategy", "curve_spread")
    assert _credit(named) == 0.05  # the named strategy's own default, not the desk's


def test_a_desk_whose_strategy_is_misspelt_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(tmp_path, '[engine.strategy]\nname = "curve_sprd"')
    assert main(["price", str(RFQ), "--config", str(desk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quoter price: unknown strategy 'curve_sprd'")
    assert "Traceback" not in err


def test_the_desks_limits_check_the_price_as_the_running_bot_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sample desk's collar allows 15 EUR/MWh from mid; this desk's credit markup is 20.
    desk = _desk(
        tmp_path,
        '[engine.strategy]\nname = "curve_spread"\n'
        "[engine.strategy.params]\ncredit_default_eur_mwh = 20.0",
    )
    report = _priced(capsys, "--config", str(desk))
    assert report["decision"] == "decline"
    assert report["reason"] == "collar"
    risk = report["risk"]
    assert isinstance(risk, dict)
    assert risk["limits"] == f"{desk} [risk]"
    assert risk["checks"]["collar"].startswith("refused: 20.400 from mid")
    # Without the desk, the demo's limits: the same price, the same collar of 15.
    assert _priced(capsys, "--param", "credit_default_eur_mwh=20.0")["reason"] == "collar"


def test_a_desk_without_limits_is_refused_as_quoter_run_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = tmp_path / "desk.toml"
    desk.write_text('[engine.strategy]\nname = "curve_spread"\n')
    assert main(["price", str(RFQ), "--config", str(desk)]) == 2
    err = capsys.readouterr().err
    assert err == f"quoter price: {desk}: no [risk] section: every limit must be stated to quote\n"
