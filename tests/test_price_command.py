"""`quoter price`: one RFQ file in, one JSON decision out; bad input exits 2 naming the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from quoter.cli import main
from quoter.domain import Rfq
from quoter.pricing.curve_export import write_curve_set
from quoter.pricing.valuation import value_instrument
from quoter.strategies_api import Decision, Decline, MarketSnapshot, build_quote
from tests.strategies.factories import make_curves

DATA = Path(__file__).parent / "data" / "rfqs"
CAL27 = DATA / "cal27-base-buy.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, dict[str, Any], str]:
    code = main(["price", *map(str, argv)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else {}, captured.err


@pytest.fixture(scope="module")
def curve_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("curves") / "curves.csv"
    write_curve_set(make_curves(), path)
    return path


def test_prices_a_one_way_rfq_on_the_synthetic_curves(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, CAL27)
    assert code == 0
    assert out["decision"] == "quote"
    assert out["side"] == "sell"
    assert out["delivery-hours"] == 8760
    assert out["energy-mwh"] == 87600
    assert out["price"] == round(out["mid"] + 0.4 + 0.05, 3)
    assert list(out["components"]) == ["mid", "half-spread", "credit"]
    assert out["strategy"] == "curve_spread"
    # What priced it, though no parameter was named: the strategy's defaults in effect.
    assert out["params"]["credit_default_eur_mwh"] == 0.05
    assert out["params"]["size_add_on_eur_mwh"] == [[25, 0.0], [100, 0.05], [500, 0.15]]
    assert out["curve-as-of"] == "2026-03-02T09:15:00Z"  # synthetic curves as of --now
    assert out["now"] == "2026-03-02T09:15:00Z"  # the RFQ's created-at by default


def test_prices_from_a_curve_file_with_a_strategy_and_params(
    capsys: pytest.CaptureFixture[str], curve_file: Path
) -> None:
    code, out, _ = _run(
        capsys,
        DATA / "may26-peak-two-way.json",
        "--curves",
        curve_file,
        "--strategy",
        "inventory_skew",
        "--param",
        "inner.name=curve_spread",
        "--param",
        "inner.params.credit_default_eur_mwh=0.5",
        "--now",
        "2026-04-01T08:00:00+02:00",
    )
    assert code == 0
    # The curve file is three months old at --now: the bot would refuse to send this quote,
    # and says so; the strategy's figures are still shown.
    assert out["decision"] == "decline"
    assert out["reason"] == "curve-stale"
    assert out["bid"] < out["mid"] < out["ask"]
    assert out["components"]["credit"] == 0.5
    assert out["components"]["skew"] == 0.0
    assert out["curve-id"] == make_curves().id
    assert out["now"] == "2026-04-01T06:00:00Z"


@pytest.mark.parametrize(
    "argv",
    [
        ["custom-dst-day-inline-shape.json"],
        ["custom-dst-day.json", "--shape", str(DATA / "custom-dst-day-shape.json")],
    ],
)
def test_custom_rfq_with_its_shape_inline_or_from_a_file(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _ = _run(capsys, DATA / argv[0], *argv[1:])
    assert code == 0
    assert out["decision"] == "quote"
    assert out["delivery-hours"] == 23
    assert out["energy-mwh"] == 8 * 11 + 12 * 12  # 24/25 format: the zero hour summed away


def test_a_decline_is_a_normal_result(capsys: pytest.CaptureFixture[str], curve_file: Path) -> None:
    code, out, _ = _run(capsys, DATA / "custom-dst-day.json", "--curves", curve_file)
    assert code == 0
    assert out["decision"] == "decline"
    assert out["reason"] == "shape-missing"
    assert out["price"] is None


def test_an_area_without_a_curve_is_declined_with_what_is_known(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, curve_file: Path
) -> None:
    document = json.loads(CAL27.read_text())
    document["instrument"]["market-area"] = "NL"
    rfq = tmp_path / "nl.json"
    rfq.write_text(json.dumps(document))
    code, out, _ = _run(capsys, rfq, "--curves", curve_file)
    assert code == 0
    assert (out["decision"], out["reason"]) == ("decline", "no-curve")
    assert out["delivery-hours"] == 8760
    assert out["mid"] is None


def _bad_rfq(tmp_path: Path, change: Any) -> Path:
    document = json.loads(CAL27.read_text())
    change(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda tmp: [tmp / "missing.json"], "missing.json: cannot read"),
        (lambda tmp: [_text(tmp, "{not json")], "bad.json: not valid JSON: line 1 column 2"),
        (
            lambda tmp: [_bad_rfq(tmp, lambda d: d["quantity"]["amount"].update(value=-5))],
            "bad.json: rfq: quantity.amount.value",
        ),
        (
            lambda tmp: [_bad_rfq(tmp, lambda d: d["instrument"]["maturity"].pop("end"))],
            "bad.json: rfq: instrument.maturity.end",
        ),
        (lambda tmp: [CAL27, "--param", "nonsense"], "expected KEY=VALUE"),
        (lambda tmp: [CAL27, "--param", "spread=1"], "unknown parameter(s) spread"),
        (lambda tmp: [CAL27, "--strategy", "nope"], "unknown strategy 'nope'"),
        (
            lambda tmp: [CAL27, "--shape", DATA / "custom-dst-day-shape.json"],
            "goes with a custom load",
        ),
        (lambda tmp: [CAL27, "--curves", tmp / "none"], "none: no such curve file or folder"),
        (
            lambda tmp: [
                DATA / "custom-dst-day.json",
                "--shape",
                _text(tmp, '{"resolution": "PT5M"}'),
            ],
            "bad.json: loadshape: resolution",
        ),
    ],
)
def test_bad_input_exits_2_naming_file_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, setup: Any, message: str
) -> None:
    code, _, err = _run(capsys, *setup(tmp_path))
    assert code == 2
    assert message in err


def _text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


def test_a_quote_passes_the_demo_limits_on_an_empty_book_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = _run(capsys, CAL27)
    assert out["decision"] == "quote"
    risk = out["risk"]
    assert risk["limits"] == "demo (no --config)"
    assert risk["book"].startswith("empty")
    assert risk["checks"]["collar"] == "ok"
    assert set(risk["checks"].values()) == {"ok"}


def test_a_quote_the_collar_refuses_is_the_decline_the_bot_would_make(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 40 EUR/MWh of credit puts the price 40.4 from mid: the demo collar allows 15.
    _, out, _ = _run(capsys, CAL27, "--param", "credit_default_eur_mwh=40")
    assert out["decision"] == "decline"
    assert out["reason"] == "collar"
    assert out["detail"].startswith("collar: 40.400 from mid")
    assert out["price"] == round(out["mid"] + 0.4 + 40, 3)  # the strategy's figures kept
    assert out["risk"]["checks"]["collar"].startswith("refused: 40.400 from mid")
    assert out["risk"]["checks"]["credit-limit"] == "ok"


def test_a_strategy_decline_runs_no_risk_checks(
    capsys: pytest.CaptureFixture[str], curve_file: Path
) -> None:
    _, out, _ = _run(capsys, DATA / "custom-dst-day.json", "--curves", curve_file)
    assert out["reason"] == "shape-missing"
    assert "risk" not in out


@dataclass(frozen=True)
class CallsItsPriceMid:
    """Quotes 100 EUR/MWh over the curve and reports that price as its mid."""

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        valued = value_instrument(rfq.instrument, market.shape, market.curves)
        assert not isinstance(valued, Decline)
        energy_mwh = rfq.quantity_mw * valued.hours
        facts = (valued.hours, energy_mwh, market.curves.id, valued.curve_as_of)
        return build_quote(rfq.our_side, valued.mid_eur_mwh + 100.0, {"half": 0.0}, facts)


def test_the_collar_measures_from_the_curve_mid_not_the_one_the_strategy_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = _run(capsys, CAL27, "--strategy", f"{__name__}:CallsItsPriceMid")
    assert out["decision"] == "decline"
    assert out["reason"] == "collar"
    assert out["price"] == pytest.approx(out["mid"], abs=1e-3)  # its own figures, kept
    assert out["risk"]["checks"]["collar"].startswith("refused: 100.000 from mid")


def _scaled_curves(tmp_path: Path, scale: float) -> Path:
    """The test curves with every price times `scale`."""
    curves = make_curves()
    path = tmp_path / f"curves-x{scale:g}.csv"
    write_curve_set(
        type(curves)({k: replace(s, prices=s.prices * scale) for k, s in curves.series.items()}),
        path,
    )
    return path


@pytest.mark.parametrize(
    ("scale", "said"),
    [
        (1 / 1000, "is the file in EUR/kWh?"),  # `quoter price` quoted 0.339, every check "ok"
        (60.0, "outside the plausible band of power/DE [-500, 4000]"),  # about 5000 EUR/MWh
    ],
)
def test_a_curve_the_bot_would_refuse_is_not_priced_from(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, scale: float, said: str
) -> None:
    refused = _scaled_curves(tmp_path, scale)
    code, out, err = _run(capsys, CAL27, "--curves", refused)
    assert code == 0
    assert (out["decision"], out["reason"]) == ("decline", "no-curve")
    assert "curve refused" in err
    assert said in err
    assert any(said in line for line in out["curves-refused"])  # the decline says why, too
    assert main(["curves", "check", str(refused)]) == 1  # and `curves check` says so too
    assert said in capsys.readouterr().err


DESK_BAND = """
[curves.bands.power]
min_eur_mwh = 0.0
max_eur_mwh = 60.0
min_mean_eur_mwh = 1.0
"""


def test_the_desks_curve_bands_are_the_ones_checked_offline(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, curve_file: Path
) -> None:
    # A desk that narrowed power's band: the bot it configures refuses these curves, so its
    # `price --config` and `curves check --config` do too, where the defaults pass them.
    config = tmp_path / "desk.toml"
    sample = Path(__file__).parents[1] / "backtests" / "sample-desk.toml"
    config.write_text(sample.read_text() + DESK_BAND, encoding="utf-8")
    assert _run(capsys, CAL27, "--curves", curve_file)[1].get("reason") != "no-curve"
    code, out, err = _run(capsys, CAL27, "--curves", curve_file, "--config", config)
    assert (code, out["reason"]) == (0, "no-curve")
    assert "outside the plausible band of power/DE [0, 60]" in err
    assert main(["curves", "check", str(curve_file)]) == 0
    capsys.readouterr()
    assert main(["curves", "check", str(curve_file), "--config", str(config)]) == 1
    assert "outside the plausible band of power/DE [0, 60]" in capsys.readouterr().err


def test_curves_check_refuses_a_bad_configuration_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, curve_file: Path
) -> None:
    config = tmp_path / "desk.toml"
    config.write_text("[curves.bands.power]\nmin_eur_mwh = 10.0\n", encoding="utf-8")
    assert main(["curves", "check", str(curve_file), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quoter curves check: ")
    assert str(config) in err
    assert "curves.bands.power.max_eur_mwh: Field required" in err
    assert "Traceback" not in err
