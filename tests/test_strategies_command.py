"""`quoter strategies`: the built-ins, the entry points and a named strategy, each parameter with
its type, default and bounds as the loader validates them, in every way a bound is declared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quoter.cli import main
from tests.test_cli_imports import _heavy, _loaded
from tests.test_readme_strategy import QUOTER, STRATEGY, fresh_clone_env, write_readme_strategy

BOUNDED = '''
import dataclasses
from typing import Annotated

import annotated_types
from pydantic import BaseModel, Field


class _Prices:
    def price(self, rfq, market):
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class ByMetadata(_Prices):
    """Bounds in dataclasses.field metadata and annotated_types."""

    floor_eur_mwh: float = dataclasses.field(default=1.0, metadata={"ge": 0, "lt": 10})
    size_mw: Annotated[float, annotated_types.Interval(gt=0, le=500)] = 25.0
    steps: tuple[Annotated[float, Field(ge=0)], ...] = (0.1, 0.2)
    required_eur_mwh: float = dataclasses.field(default=0.0, metadata={"description": "x"})


class ByModel(BaseModel, _Prices):
    """A pydantic model's fields."""

    spread_eur_mwh: float = Field(0.3, gt=0, le=5, description="the half-spread")
    name: str
'''


def strategies_json(*names: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["strategies", "--json", *names]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


def by_name(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in info["parameters"]}


@pytest.fixture
def bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "bounded_desk.py").write_text(BOUNDED, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("bounded_desk", None)


def test_the_built_ins_are_listed_with_their_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = {info["name"]: info for info in strategies_json(capsys=capsys)}
    assert list(listed)[:2] == ["curve_spread", "inventory_skew"]
    spread = listed["curve_spread"]
    assert spread["source"] == "built-in"
    assert spread["summary"].startswith("The curve's price of the delivery")
    credit = by_name(spread)["credit_default_eur_mwh"]
    assert (credit["type"], credit["default"], credit["bounds"]) == ("float", 0.05, {"ge": 0})
    load = by_name(spread)["load_factor"]
    assert load["type"] == "Mapping[Load, float [>= 0]]"
    assert load["default"] == {"base": 1.0, "peak": 1.25, "off-peak": 1.25, "custom": 1.5}
    skew = by_name(listed["inventory_skew"])
    assert skew["inner"] | {"description": None} == {
        "name": "inner",
        "type": "strategy",
        "required": True,
        "default": None,
        "bounds": {},
        "description": None,
        "strategy": True,
    }
    assert skew["cap_eur_mwh"]["default"] == 2.0
    for info in listed.values():  # a sentence of what each does, not its parameters' list
        parameters = {p["name"] for p in info["parameters"]}
        assert info["summary"].endswith("."), info["name"]
        assert info["summary"].split(":")[0] not in parameters, info["name"]


@pytest.mark.usefixtures("bounded")
def test_every_way_of_declaring_a_bound_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    metadata, model = strategies_json(
        "bounded_desk:ByMetadata", "bounded_desk:ByModel", capsys=capsys
    )
    assert metadata["summary"] == "Bounds in dataclasses.field metadata and annotated_types."
    params = by_name(metadata)
    assert params["floor_eur_mwh"]["bounds"] == {"ge": 0, "lt": 10}
    assert params["size_mw"]["bounds"] == {"gt": 0, "le": 500}
    assert params["steps"]["type"] == "tuple[float [>= 0], ...]"
    assert params["steps"]["default"] == [0.1, 0.2]
    assert params["required_eur_mwh"]["description"] == "x"
    fields = by_name(model)
    assert fields["spread_eur_mwh"] | {"strategy": False} == {
        "name": "spread_eur_mwh",
        "type": "float",
        "required": False,
        "default": 0.3,
        "bounds": {"gt": 0, "le": 5},
        "description": "the half-spread",
        "strategy": False,
    }
    assert (fields["name"]["type"], fields["name"]["required"]) == ("str", True)


def test_the_readme_strategy_is_described_from_the_working_directory(tmp_path: Path) -> None:
    write_readme_strategy(tmp_path)
    args = [str(QUOTER), "strategies", STRATEGY]
    done = subprocess.run(
        args, cwd=tmp_path, env=fresh_clone_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{STRATEGY} (module): The curve's price of the delivery, plus or minus a fixed "
        "half-spread.",
        "    half_spread_eur_mwh: float [>= 0, <= 50] = 0.5",
    ]


def test_the_entry_points_are_listed(tmp_path: Path) -> None:
    """A desk's package installed with an entry point in `quoter.strategies`."""
    write_readme_strategy(tmp_path)
    dist = tmp_path / "site" / "my_desk-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-desk\nVersion: 1.0\n")
    points = f"[quoter.strategies]\nfixed = {STRATEGY}\nbroken = no_such_desk:Strategy\n"
    (dist / "entry_points.txt").write_text(points)
    env = fresh_clone_env()
    env["PYTHONPATH"] += os.pathsep + str(tmp_path / "site")
    done = subprocess.run(
        [str(QUOTER), "strategies", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = {info["name"]: info for info in json.loads(done.stdout)}
    assert listed["fixed"]["source"] == "entry point"
    assert by_name(listed["fixed"])["half_spread_eur_mwh"]["bounds"] == {"ge": 0, "le": 50}
    # One that cannot be loaded is listed with why, and the others all the same.
    assert "cannot load its entry point" in listed["broken"]["error"]
    assert listed["broken"]["parameters"] == []


def test_an_unknown_strategy_is_named_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["strategies", "no_such_desk:Strategy"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("quoter strategies: no_such_desk:Strategy: cannot import no_such_desk")


def test_the_listing_loads_none_of_the_backtest_stack() -> None:
    code, modules = _loaded("strategies", env=dict(os.environ))
    assert code == 0
    assert "strategies.inventory_skew" in modules  # it did describe them
    assert [m for m in _heavy(modules) if not m.startswith("numpy")] == []  # pricing's numpy
