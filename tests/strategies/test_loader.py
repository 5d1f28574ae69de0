"""The loader: built-ins, entry points, module paths, validated parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import quoter.strategies_api.loader as loader
from quoter.domain import Rfq
from quoter.strategies_api import (
    Decision,
    MarketSnapshot,
    StrategyLoadError,
    load_strategy,
)
from strategies.curve_spread import CurveSpread


@dataclass(frozen=True)
class Midpoint:
    """A plugin defined outside the built-ins."""

    offset_eur_mwh: float = 0.0

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        raise NotImplementedError


NOT_A_STRATEGY = object()


def test_built_in_by_name_with_validated_params() -> None:
    strategy = load_strategy("curve_spread", {"credit_default_eur_mwh": 0.25})
    assert strategy == CurveSpread(credit_default_eur_mwh=0.25)
    assert isinstance(load_strategy("curve-spread", {}), CurveSpread)


def test_module_path() -> None:
    strategy = load_strategy(f"{__name__}:Midpoint", {"offset_eur_mwh": 1})
    assert strategy == Midpoint(1.0)


def test_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    class Found:
        def load(self) -> object:
            return Midpoint

    def entry_points(*, group: str, name: str) -> list[Any]:
        return [Found()] if (group, name) == ("quoter.strategies", "midpoint") else []

    monkeypatch.setattr(loader, "entry_points", entry_points)
    assert load_strategy("midpoint", {}) == Midpoint()


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("curve_spread", {"credit_default": 1}, "unknown parameter\\(s\\) credit_default"),
        (
            "curve_spread",
            {"credit_default_eur_mwh": "lots"},
            "credit_default_eur_mwh: must be a number",
        ),
        ("no_such", {}, "unknown strategy 'no_such'"),
        ("no.such.module:X", {}, "cannot import no.such.module"),
        (f"{__name__}:Nothing", {}, "has no 'Nothing'"),
        (f"{__name__}:NOT_A_STRATEGY", {}, "has no price"),
        (f"{__name__}:NOT_A_STRATEGY", {"x": 1}, "takes no parameters"),
        ("inventory_skew", {"inner": "no_such"}, "unknown strategy 'no_such'"),
    ],
)
def test_load_errors_name_the_strategy_and_parameter(
    name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(StrategyLoadError, match=message):
        load_strategy(name, params)
