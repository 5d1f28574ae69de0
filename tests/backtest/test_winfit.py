"""Calibrating the win curve by segment: known curves recovered from a simulated flow, thin
segments shrunk toward the pool, the fit's quality, the fit file, and the calibrate command."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from quoter.audit.trail import JsonlAudit
from quoter.backtest.fills import fit_logistic
from quoter.backtest.segments import Quoted, fit_segments
from quoter.backtest.tape import write_tape
from quoter.cli import main
from quoter.pricing.winfit import WinFit, load_fit
from quoter.strategies_api import load_strategy
from tests.audit.records import outcome, quote_intent, rfq_seen
from tests.backtest.helpers import short_tape

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
# Segments and their true (a, b): f(markup) = 1 / (1 + e^(a + b markup)), markup in bp of the
# price level: at a mid of 10,000 EUR/MWh (MID), a bp is 1 EUR/MWh.
MID = 1e4
TRUE = {"DE": (-1.0, 3.0), "FR": (0.5, 1.5)}
THIN = ("NL", (2.5, 0.4))


def _flow(area: str, a: float, b: float, n: int, rng: random.Random) -> list[Quoted]:
    quoted = []
    for _ in range(n):
        markup = rng.uniform(0.0, 2.0)
        won = rng.random() < 1.0 / (1.0 + math.exp(a + b * markup))
        quoted.append(Quoted("power", area, 45.0, 10.0, False, "c-1", markup, won, MID, 720.0))
    return quoted


def _fit(prior_weight: float, thin: int = 25) -> tuple[dict[str, tuple[float, float]], WinFit]:
    rng = random.Random(3)
    quoted = [q for area, (a, b) in TRUE.items() for q in _flow(area, a, b, 6000, rng)]
    quoted += _flow(THIN[0], *THIN[1], thin, rng)
    fit = fit_segments(quoted, source="simulated", created_at=T0, prior_weight=prior_weight)
    by_area = {k.split("|")[0].split("/")[1]: (s.a, s.b) for k, s in fit.segments.items()}
    return by_area, fit


def test_the_fit_recovers_each_segments_curve_within_tolerance() -> None:
    # 6,000 quotes a segment, markups uniform on [0, 2]: a within 0.15, b within 0.2.
    by_area, _ = _fit(prior_weight=50.0)
    for area, (a, b) in TRUE.items():
        fitted_a, fitted_b = by_area[area]
        assert abs(fitted_a - a) < 0.15, (area, fitted_a)
        assert abs(fitted_b - b) < 0.2, (area, fitted_b)


def test_a_thin_segment_is_pulled_toward_the_pooled_fit() -> None:
    shrunk, fit = _fit(prior_weight=50.0)
    alone, _ = _fit(prior_weight=0.0)
    pooled = (fit.pooled.a, fit.pooled.b)

    def distance(ab: tuple[float, float]) -> float:
        return math.hypot(ab[0] - pooled[0], ab[1] - pooled[1])

    assert "NL" in shrunk
    assert distance(shrunk["NL"]) < 0.5 * distance(alone["NL"])
    # A segment of thousands barely moves.
    assert abs(shrunk["DE"][1] - alone["DE"][1]) < 0.05


def test_the_fit_reports_log_loss_against_a_constant_rate() -> None:
    _, fit = _fit(prior_weight=50.0)
    for key, segment in fit.segments.items():
        if segment.n > 1000:
            assert segment.log_loss < segment.baseline_log_loss, key
    pooled = fit.pooled
    assert pooled.log_loss < pooled.baseline_log_loss


def _trail(directory: Path, quotes: int) -> None:
    """A live trail: each RFQ's record, our one-way quote on it, and its outcome, the wins
    following TRUE's curve per area (DE and FR)."""
    rng = random.Random(5)
    audit = JsonlAudit(directory)
    at = T0
    for i in range(quotes):
        at += timedelta(seconds=1)
        area = "DE" if i % 2 else "FR"
        a, b = TRUE[area]
        side = rng.choice(["buy", "sell"])
        mid, markup = MID, rng.uniform(0.0, 2.0)
        price = mid + markup if side == "sell" else mid - markup
        start = (T0 + timedelta(days=45)).isoformat()
        audit.record("rfq", at, rfq_seen(f"r{i}", market_area=area, start=start))
        audit.record("quote-intent", at, quote_intent(f"r{i}", side, mid, price))
        won = rng.random() < 1.0 / (1.0 + math.exp(a + b * markup))
        audit.record("outcome", at, outcome(f"r{i}", "won" if won else "lost"))


def test_calibrate_writes_a_fit_file_the_strategy_reads_and_its_reliability_diagram(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trail(tmp_path / "audit", 4000)
    out = tmp_path / "fits" / "win.json"
    args = ["backtest", "calibrate", "--audit", str(tmp_path / "audit"), "--fit-out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    fit = load_fit(out)
    assert set(fit.segments) == {
        "power/DE|31-92d|<=25MW|one-way|all",
        "power/FR|31-92d|<=25MW|one-way|all",
    }
    de = fit.segments["power/DE|31-92d|<=25MW|one-way|all"]
    assert abs(de.a + 1.0) < 0.25
    assert abs(de.b - 3.0) < 0.35
    assert de.n + fit.segments["power/FR|31-92d|<=25MW|one-way|all"].n == 4000
    document = json.loads(out.read_text())
    assert document["schema"] == 2
    assert document["fit-id"] == fit.fit_id
    assert document["source"] == f"audit trail {tmp_path / 'audit'}"
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert f"fit {fit.fit_id}: 2 segments" in printed
    strategy = load_strategy("win_curve", {"fit": str(out)})
    assert strategy.version == f"fit {fit.fit_id}"  # type: ignore[attr-defined]


def test_calibrate_refuses_a_bad_prior_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trail(tmp_path / "audit", 40)
    out = tmp_path / "win.json"
    args = ["backtest", "calibrate", "--audit", str(tmp_path / "audit"), "--fit-out", str(out)]
    with pytest.raises(SystemExit) as ended:
        main([*args, "--prior-weight", "-1"])
    assert ended.value.code == 2
    assert "argument --prior-weight: -1: give a number at least 0" in capsys.readouterr().err
    assert not out.exists()


def test_a_weight_counts_an_outcome_as_that_many() -> None:
    rng = random.Random(11)
    edges = [rng.uniform(-2.0, 2.0) for _ in range(400)]
    won = [rng.random() < 1.0 / (1.0 + math.exp(-0.3 - 1.2 * e)) for e in edges]
    twice = fit_logistic(edges + edges[:100], won + won[:100])
    weighted = fit_logistic(edges, won, weights=[2.0] * 100 + [1.0] * 300)
    assert weighted == pytest.approx(twice, abs=1e-9)
    with pytest.raises(ValueError, match="weight"):
        fit_logistic(edges, won, weights=[-1.0] * 400)


def test_the_fit_follows_the_curve_of_the_energy_that_trades() -> None:
    # One segment: large deliveries win on (-1, 3), small ones on (1, 1); a hundred times the
    # energy, the large ones decide the P&L, and the fit is theirs.
    rng = random.Random(13)
    quoted = []
    for i in range(12_000):
        large = i % 2 == 0
        a, b = (-1.0, 3.0) if large else (1.0, 1.0)
        markup = rng.uniform(0.0, 2.0)
        won = rng.random() < 1.0 / (1.0 + math.exp(a + b * markup))
        energy = 72_000.0 if large else 720.0
        quoted.append(Quoted("power", "DE", 45.0, 10.0, False, "c-1", markup, won, MID, energy))
    fit = fit_segments(quoted, source="simulated", created_at=T0)
    (segment,) = fit.segments.values()
    assert abs(segment.a + 1.0) < 0.15, segment
    assert abs(segment.b - 3.0) < 0.25, segment


def test_the_curve_is_in_bp_of_the_price_level() -> None:
    # Gas near 35 and power near 90 EUR/MWh in one segment's worth of quotes: competitors'
    # spreads scale with the price, so the wins follow one curve in bp, (-1, 0.02).
    rng = random.Random(17)
    quoted = []
    for i in range(12_000):
        mid = 35.0 if i % 2 else 90.0
        markup = rng.uniform(0.0, 0.02 * mid)
        won = rng.random() < 1.0 / (1.0 + math.exp(-1.0 + 0.02 * 1e4 * markup / mid))
        quoted.append(Quoted("power", "DE", 45.0, 10.0, False, "c-1", markup, won, mid, 720.0))
    fit = fit_segments(quoted, source="simulated", created_at=T0)
    (segment,) = fit.segments.values()
    assert abs(segment.a + 1.0) < 0.1, segment
    assert abs(segment.b - 0.02) < 0.002, segment
    assert segment.log_loss < segment.baseline_log_loss


def test_calibrate_fits_the_win_curve_on_a_replays_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=120.0, per_min=6.0), tape)
    results = tmp_path / "replayed"
    spread = ["--strategy", "curve_spread", "--param", "credit_default_eur_mwh=0.3"]
    assert main(["backtest", "replay", str(tape), *spread, "--out", str(results)]) == 0
    capsys.readouterr()
    out = tmp_path / "win.json"
    fit = ["backtest", "calibrate", "--replay", str(results), "--fit-out", str(out)]

    assert main(fit) == 2  # which tape it ran is not in the results: it must be named
    assert "--replay needs --tape" in capsys.readouterr().err
    other = tmp_path / "other.parquet"
    write_tape(short_tape(minutes=30.0, seed=99), other)
    assert main([*fit, "--tape", str(other)]) == 2
    assert f"are not in {other}" in capsys.readouterr().err
    assert not out.exists()

    assert main([*fit, "--tape", str(tape)]) == 0
    fitted = load_fit(out)
    quoted = pd.read_parquet(results / "decisions.parquet").query("action == 'quote'")
    assert 0 < fitted.pooled.n <= quoted.rfq_id.nunique()
    assert json.loads(out.read_text())["source"] == f"replay {results} of {tape}"
    assert load_strategy("win_curve", {"fit": str(out)}).version == f"fit {fitted.fit_id}"  # type: ignore[attr-defined]
