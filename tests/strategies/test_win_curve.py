"""win_curve: the markup solver, the strategy's decision and its components, the inventory lean,
and a fit file refused at load with its name and field."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quoter.audit.story import render_text, story
from quoter.domain import Action, Commodity, Load, QuoteType
from quoter.engine.records import decision_fields
from quoter.engine.state import StrategySlot
from quoter.pricing.winfit import (
    SegmentFit,
    WinFit,
    fit_id_of,
    markup_eur_mwh,
    optimal_markup,
    write_fit,
)
from quoter.strategies_api import (
    DeliveryBucket,
    QuoteDecision,
    StrategyLoadError,
    evaluate,
    load_strategy,
)
from tests.audit.records import quote_intent
from tests.strategies.factories import period_rfq, snapshot

MAY = (date(2026, 5, 1), date(2026, 6, 1))  # about 60 days after the snapshot's now
ONE_WAY_KEY = "power/DE|31-92d|<=25MW|one-way|all"
TWO_WAY_KEY = "power/DE|31-92d|<=25MW|two-way|all"
OMEGA = 0.5671432904097838  # W(1): the omega constant
# The fit's (a, b) are per bp of the price level: d* = (1 + omega) / 0.02 = 78 bp one-way.
ONE_WAY_AB, TWO_WAY_AB, POOLED_AB = (-1.0, 0.02), (-0.5, 0.015), (0.0, 0.01)


def _segment(a: float, b: float) -> SegmentFit:
    return SegmentFit(a, b, 1000, 400, 0.6, 0.67)


def _fit_file(tmp_path: Path, **segments: tuple[float, float]) -> Path:
    chosen = segments or {ONE_WAY_KEY: ONE_WAY_AB, TWO_WAY_KEY: TWO_WAY_AB}
    fits = MappingProxyType({k: _segment(*ab) for k, ab in chosen.items()})
    pooled = _segment(*POOLED_AB)
    fit = WinFit(fit_id_of(pooled, fits), "2026-03-01T00:00:00+00:00", "test", 50.0, pooled, fits)
    path = tmp_path / "fit.json"
    write_fit(fit, path)
    return path


def _strategy(path: Path, **params: object) -> Any:
    return load_strategy("win_curve", {"fit": str(path), **params})


def _quote(strategy: Any, rfq: Any, **market: Any) -> QuoteDecision:
    decision = evaluate(strategy, rfq, snapshot(**market))
    assert type(decision) is QuoteDecision, decision
    return decision


def _condition(a: float, b: float, markup: float) -> float:
    x = b * markup
    return x - 1.0 - math.exp(-a - x)


def test_the_solver_meets_the_closed_form() -> None:
    # a = -1: x = 1 + W(e^0) = 1 + omega.
    assert optimal_markup(-1.0, 2.0) == pytest.approx((1 + OMEGA) / 2.0, abs=1e-12)


@given(st.floats(-30.0, 30.0), st.floats(0.01, 100.0))
def test_the_solver_meets_the_first_order_condition(a: float, b: float) -> None:
    markup = optimal_markup(a, b)
    x = b * markup
    assert markup > 0
    assert abs(_condition(a, b, markup)) <= 1e-9 * max(1.0, x)
    f = 1.0 / (1.0 + math.exp(a + x))
    assert f == pytest.approx(1.0 - 1.0 / x, abs=1e-9)

    def profit(d: float) -> float:
        return d / (1.0 + math.exp(min(700.0, a + b * d)))

    assert profit(markup) >= max(profit(markup * 0.999), profit(markup * 1.001))


def _best(ab: tuple[float, float], mid: float) -> float:
    return markup_eur_mwh(optimal_markup(*ab), mid)


def test_a_one_way_rfq_is_quoted_at_its_segments_optimum(tmp_path: Path) -> None:
    strategy = _strategy(_fit_file(tmp_path))
    decision = _quote(strategy, period_rfq(*MAY))  # the requester buys: we sell
    best_bp = optimal_markup(*ONE_WAY_AB)
    best = _best(ONE_WAY_AB, decision.mid)
    assert best == pytest.approx(best_bp * decision.mid / 10_000, rel=1e-12)
    assert decision.side is Action.SELL
    assert decision.price == round(decision.mid + best, 3)
    assert list(decision.components) == ["mid", "markup", "inventory"]
    assert decision.components["markup"] == best
    assert decision.notes["segment"] == ONE_WAY_KEY
    assert decision.notes["optimal-markup"] == best
    assert decision.notes["optimal-markup-bp"] == best_bp
    assert decision.notes["win-probability"] == pytest.approx(1 - 1 / (0.02 * best_bp), abs=1e-12)
    assert decision.notes["inventory-lean"] == 0.0
    assert decision.notes["fit"] == strategy.version.removeprefix("fit ")


def test_a_two_way_rfq_gets_both_sides_from_the_two_way_segment(tmp_path: Path) -> None:
    decision = _quote(
        _strategy(_fit_file(tmp_path)), period_rfq(*MAY, quote_type=QuoteType.TWO_WAY)
    )
    best = _best(TWO_WAY_AB, decision.mid)
    assert decision.bid == round(decision.mid - best, 3)
    assert decision.ask == round(decision.mid + best, 3)
    assert decision.notes["segment"] == TWO_WAY_KEY


def test_an_unseen_segment_quotes_the_pooled_optimum_and_says_so(tmp_path: Path) -> None:
    rfq = period_rfq(*MAY, commodity=Commodity.GAS, area="THE")
    decision = _quote(_strategy(_fit_file(tmp_path)), rfq)
    assert decision.components["markup"] == _best(POOLED_AB, decision.mid)
    assert str(decision.notes["segment"]).startswith("pooled (no fit for gas/THE|")


def test_the_markup_is_clipped_to_its_bounds(tmp_path: Path) -> None:
    strategy = _strategy(_fit_file(tmp_path), max_markup_eur_mwh=0.2)
    decision = _quote(strategy, period_rfq(*MAY))
    assert decision.components["markup"] == 0.2
    assert decision.notes["optimal-markup"] == _best(ONE_WAY_AB, decision.mid)  # why, unclipped


def test_the_markup_is_a_share_of_the_price_level_within_a_segment(tmp_path: Path) -> None:
    # Peak and base of one month are one segment; competitors' spreads scale with the price,
    # so the dearer peak is quoted the same bp of its mid, more EUR/MWh.
    strategy = _strategy(_fit_file(tmp_path))
    base = _quote(strategy, period_rfq(*MAY))
    peak = _quote(strategy, period_rfq(*MAY, Load.PEAK))
    assert peak.notes["segment"] == base.notes["segment"] == ONE_WAY_KEY
    assert peak.mid > 1.05 * base.mid
    ratio = peak.components["markup"] / base.components["markup"]
    assert ratio == pytest.approx(peak.mid / base.mid, rel=1e-12)


def _may(mwh: float) -> dict[DeliveryBucket, float]:
    return {DeliveryBucket(Commodity.POWER, "DE", "2026-05"): mwh}


@pytest.mark.parametrize("action", [Action.BUY, Action.SELL])
def test_a_long_desk_lowers_its_prices_and_a_short_one_raises_them(
    tmp_path: Path, action: Action
) -> None:
    strategy = _strategy(_fit_file(tmp_path), lean_eur_mwh_per_mwh=0.001)
    rfq = period_rfq(*MAY, action=action)
    flat = _quote(strategy, rfq)
    long = _quote(strategy, rfq, positions_mwh=_may(100.0))
    short = _quote(strategy, rfq, positions_mwh=_may(-100.0))
    assert long.notes["inventory-lean"] == pytest.approx(-0.1)
    assert long.components["inventory"] == -0.1
    assert long.price == round(flat.price - 0.1, 3)  # type: ignore[operator]
    assert short.price == round(flat.price + 0.1, 3)  # type: ignore[operator]


def test_the_lean_stops_where_a_side_would_leave_the_bounds(tmp_path: Path) -> None:
    strategy = _strategy(_fit_file(tmp_path), lean_eur_mwh_per_mwh=0.01, min_markup_eur_mwh=0.1)
    long = _quote(strategy, period_rfq(*MAY), positions_mwh=_may(10_000.0))  # we sell
    best = _best(ONE_WAY_AB, long.mid)
    assert long.components["inventory"] == round(0.1 - best, 3)  # the ask 0.1 above mid
    assert long.notes["inventory-lean"] == pytest.approx(-100.0)


def test_the_audit_record_holds_the_why_and_the_fits_version(tmp_path: Path) -> None:
    strategy = _strategy(_fit_file(tmp_path))
    decision = _quote(strategy, period_rfq(*MAY))
    slot = StrategySlot("win_curve", strategy)
    intent = quote_intent(
        "r-1",
        "sell",
        decision.mid,
        decision.price or 0.0,
        strategy="win_curve",
        strategy_version=slot.version,
        decision=decision_fields(decision),
    )
    record: dict[str, Any] = {"seq": 1, "at": "2026-03-02T09:15:00+00:00", "kind": "quote-intent"}
    record.update(intent)
    assert record["strategy-version"] == f"fit {decision.notes['fit']}"
    assert record["decision"]["notes"]["segment"] == ONE_WAY_KEY
    told = render_text("r-1", story([record], "r-1"))
    assert f"strategy win_curve version fit {decision.notes['fit']}" in told
    assert f"why: segment {ONE_WAY_KEY}, optimal-markup " in told


def _broken(tmp_path: Path, change: Any) -> Path:
    path = _fit_file(tmp_path)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["segments"][ONE_WAY_KEY].update(b=-0.2), f"segments['{ONE_WAY_KEY}'].b"),
        (lambda d: d["pooled"].update(b=0.0), "pooled.b: 0.0 <= 0"),
        (lambda d: d["pooled"].update(a=400.0), "pooled.a"),
        (lambda d: d["pooled"].update(wins=2000), "pooled.n/wins"),
        (lambda d: d.pop("fit-id"), "fit-id"),
        (lambda d: d.update(schema=3), "schema: 3, this quoter reads 2"),
        (lambda d: d.update(schema=1), "schema: 1 (markups in EUR/MWh"),
        (lambda d: d.update({"tenor-days": [31, 7]}), "tenor-days"),
    ],
)
def test_a_bad_fit_file_is_refused_at_load_with_its_name_and_field(
    tmp_path: Path, change: Any, field: str
) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(StrategyLoadError) as refused:
        _strategy(path)
    assert str(path) in str(refused.value)
    assert field in str(refused.value)


def test_a_missing_or_garbled_fit_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError, match=r"nothing\.json: cannot read"):
        _strategy(tmp_path / "nothing.json")
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    with pytest.raises(StrategyLoadError, match=r"garbled\.json: not a JSON fit file"):
        _strategy(garbled)


def test_bounds_that_cross_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError, match="min_markup_eur_mwh must not exceed"):
        _strategy(_fit_file(tmp_path), min_markup_eur_mwh=2.0, max_markup_eur_mwh=1.0)
