"""Parameter sweeps from a TOML file: a strategy and a grid of parameter values whose every
combination is one run, and/or runs listed one by one. Each run is labelled by its parameters.

    strategy = "curve_spread"              # the grid's strategy, and the runs' default

    [grid]                                 # every combination is a run: 3 x 2 = 6 here
    credit_default_eur_mwh = [0.0, 0.05, 0.2]
    size_add_on_eur_mwh = [[[25, 0.0], [100, 0.05]], [[25, 0.1], [100, 0.2]]]

    [[runs]]                               # a run of its own; label and strategy optional
    label = "skewed"
    strategy = "inventory_skew"
    params = { inner = "curve_spread", k_eur_mwh_per_mwh = 0.0001 }

A grid value is the list of values to try (a parameter that is itself a list is given as a list
of lists); a sub-table or dotted key (`load_factor.peak = [...]`) sets a nested parameter. Unknown
keys are refused by name, and every run's parameters are checked by loading its strategy before
anything runs, so a bad value is named with the file and the run's key=value label.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import Field, JsonValue, ValidationError

from quoter.backtest.driver import RunSpec
from quoter.basics.errors import ConfigError
from quoter.basics.frozen import Frozen
from quoter.config import read_toml
from quoter.strategies_api import StrategyLoadError, load_strategy

MAX_RUNS = 1000  # a grid past this is a typo or a job for a narrower sweep


class SweepError(Exception):
    """A sweep file that cannot be used; the message names the file and the key."""


class SweepRun(Frozen):
    label: str | None = Field(None, min_length=1, description="default: its parameters")
    strategy: str | None = Field(None, min_length=1, description="default: the file's strategy")
    params: dict[str, JsonValue] = Field(default_factory=dict)


class SweepFile(Frozen):
    strategy: str = Field("curve_spread", min_length=1)
    grid: dict[str, JsonValue] = Field(default_factory=dict)
    runs: list[SweepRun] = Field(default_factory=list)


def load_sweep(path: Path) -> list[RunSpec]:
    """The runs `path` describes, every one's parameters already checked by its strategy."""
    sweep = _parse(path)
    specs = [*_grid_specs(path, sweep), *_listed_specs(sweep)]
    if not specs:
        raise SweepError(f"{path}: no runs: give a [grid] or [[runs]]")
    if len(specs) > MAX_RUNS:
        raise SweepError(f"{path}: {len(specs)} runs; at most {MAX_RUNS} in one sweep")
    numbered = distinct(specs)
    for spec in numbered:
        try:
            load_strategy(spec.strategy, spec.params)
        except StrategyLoadError as error:
            raise SweepError(f"{path}: run {spec.label}: {error}") from None
    return numbered


def _parse(path: Path) -> SweepFile:
    try:
        data = read_toml(path)
    except ConfigError as error:
        raise SweepError(str(error)) from None
    try:
        return SweepFile.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in item['loc'])}: "
            + ("unknown key" if item["type"] == "extra_forbidden" else item["msg"])
            for item in error.errors()
        ]
        raise SweepError(f"{path}: " + "; ".join(problems)) from None


def _grid_specs(path: Path, sweep: SweepFile) -> list[RunSpec]:
    axes = list(_axes(path, sweep.grid, ()))
    if not axes:
        return []
    count = 1
    for _, values in axes:
        count *= len(values)
    if count > MAX_RUNS:
        raise SweepError(f"{path}: [grid] makes {count} runs; at most {MAX_RUNS} in one sweep")
    specs = []
    for combination in itertools.product(*(values for _, values in axes)):
        params: dict[str, object] = {}
        for (keys, _), value in zip(axes, combination, strict=True):
            _set(params, keys, value)
        specs.append(RunSpec(run_label(sweep.strategy, params), sweep.strategy, params))
    return specs


def _axes(
    path: Path, node: Mapping[str, JsonValue], keys: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], list[JsonValue]]]:
    """(key path, values to try) for every list in the grid, sub-tables followed."""
    for key, value in node.items():
        where = (*keys, key)
        if isinstance(value, dict):
            yield from _axes(path, value, where)
        elif isinstance(value, list) and value:
            yield where, value
        else:
            name = "grid." + ".".join(where)
            raise SweepError(f"{path}: {name}: give a non-empty list of values to try")


def _listed_specs(sweep: SweepFile) -> list[RunSpec]:
    specs = []
    for run in sweep.runs:
        strategy = run.strategy or sweep.strategy
        label = run.label or run_label(strategy, run.params)
        specs.append(RunSpec(label, strategy, dict(run.params)))
    return specs


def run_label(strategy: str, params: Mapping[str, object]) -> str:
    """`strategy key=value ...`, a nested parameter by its dotted key, in the given order."""
    return " ".join([strategy, *(f"{k}={_text(v)}" for k, v in _dotted(params, ""))])


def distinct(specs: list[RunSpec]) -> list[RunSpec]:
    """The runs, a label that several share told apart by ` #2`, ` #3`, ... from its second."""
    seen: dict[str, int] = {}
    labelled = []
    for spec in specs:
        seen[spec.label] = seen.get(spec.label, 0) + 1
        n = seen[spec.label]
        labelled.append(
            spec if n == 1 else RunSpec(f"{spec.label} #{n}", spec.strategy, spec.params)
        )
    return labelled


def _dotted(params: Mapping[str, object], prefix: str) -> Iterator[tuple[str, object]]:
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            yield from _dotted(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _set(params: dict[str, object], keys: tuple[str, ...], value: object) -> None:
    node = params
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        assert isinstance(child, dict)  # the grid is a tree: a key is a table or a list
        node = child
    node[keys[-1]] = value


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
