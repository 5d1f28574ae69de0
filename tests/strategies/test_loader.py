"""The loader: built-ins, entry points, module paths, validated parameters."""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import quoter.strategies_api.loader as loader
from quoter.domain import Rfq
from quoter.strategies_api import (
    Decision,
    MarketSnapshot,
    StrategyLoadError,
    load_strategy,
    parameters_in_effect,
    strategy_version,
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


class _Unshowable:
    def __str__(self) -> str:
        raise RuntimeError("a plugin's type that cannot show itself")


@dataclass(frozen=True)
class _Odd:
    table: object

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        raise NotImplementedError


def test_the_parameters_in_effect_include_the_defaults_as_json() -> None:
    assert parameters_in_effect(Midpoint(), {}) == {"offset_eur_mwh": 0.0}
    curve_spread = parameters_in_effect(load_strategy("curve_spread", {}), {})
    assert curve_spread["load_factor"] == {
        "base": 1.0,
        "peak": 1.25,
        "off-peak": 1.25,
        "custom": 1.5,
    }
    assert curve_spread["size_add_on_eur_mwh"] == [[25, 0.0], [100, 0.05], [500, 0.15]]
    given = {"inner": "curve_spread"}
    skew = parameters_in_effect(load_strategy("inventory_skew", given), given)
    assert skew["inner"] == {
        "strategy": "strategies.curve_spread:CurveSpread",
        "params": curve_spread,
    }


def test_parameters_that_cannot_be_read_back_are_recorded_as_given_not_an_error() -> None:
    """A plugin's odd value never stops the slot (and so a swap or a start) from being made."""
    assert parameters_in_effect(NOT_A_STRATEGY, {}) == {}
    assert parameters_in_effect(_Odd(_Unshowable()), {"table": "x"}) == {"table": "x"}
    assert parameters_in_effect(_Odd({"a": (1, 2)}), {}) == {"table": {"a": [1, 2]}}


VERSIONED = """from dataclasses import dataclass

{declared}

@dataclass(frozen=True)
class Fixed:
    spread_eur_mwh: float = {spread}

    def price(self, rfq, market):
        raise NotImplementedError
"""


@pytest.fixture
def desk_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A strategy module a quant writes (and edits) in a folder of their own."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "versioned_desk.py"
    sys.modules.pop("versioned_desk", None)


def _sha(path: Path) -> str:
    return "source " + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_a_strategy_that_declares_no_version_is_known_by_its_code(desk_module: Path) -> None:
    """Two codes under one name never record the same version: an edited module imported
    afresh has another; a strategy built before the edit keeps its own code's."""
    desk_module.write_text(VERSIONED.format(declared="", spread=0.5), encoding="utf-8")
    first = load_strategy("versioned_desk:Fixed", {})
    before = _sha(desk_module)
    assert strategy_version(first) == before
    desk_module.write_text(VERSIONED.format(declared="", spread=0.75), encoding="utf-8")
    second = load_strategy("versioned_desk:Fixed", {})
    assert strategy_version(second) == _sha(desk_module) != before
    assert strategy_version(first) == before  # its code, not the file as it reads now


def test_a_declared_version_is_the_strategys_own_word(desk_module: Path) -> None:
    desk_module.write_text(
        VERSIONED.format(declared='__version__ = "2.1"', spread=0.5), encoding="utf-8"
    )
    assert strategy_version(load_strategy("versioned_desk:Fixed", {})) == "2.1"
    assert strategy_version(load_strategy("curve_spread", {})) == _sha(
        Path(inspect.getfile(CurveSpread))
    )
    assert strategy_version(NOT_A_STRATEGY) is None  # no price, no source file: unknown
