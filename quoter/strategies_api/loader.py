"""Find a strategy by name and build it from validated parameters.

A name is a built-in (`curve_spread`, `inventory_skew`), an entry point in the group
`quoter.strategies`, or `package.module:attribute`. The attribute is a class of typed parameters
(a dataclass, pydantic dataclass or model) with a `price` method; its parameters are validated by
pydantic and an unknown parameter is refused by name.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points

from pydantic import BaseModel, TypeAdapter, ValidationError

from quoter.strategies_api.market import Strategy
from quoter.strategy_names import BUILT_IN, ENTRY_POINT_GROUP


class StrategyLoadError(Exception):
    """A strategy that cannot be found or built; the message names the strategy and parameter."""


def load_strategy(name_or_path: str, params: Mapping[str, object]) -> Strategy:
    """The strategy `name_or_path` built from `params`."""
    target = _resolve(name_or_path)
    if not isinstance(target, type):
        if params:
            raise StrategyLoadError(f"{name_or_path}: is an object and takes no parameters")
        return _checked(name_or_path, target)
    unknown = sorted(set(params) - _parameter_names(target))
    if unknown:
        raise StrategyLoadError(
            f"{name_or_path}: unknown parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_parameter_names(target)))}"
        )
    try:
        strategy: object = TypeAdapter(target).validate_python(dict(params))
    except ValidationError as error:
        raise StrategyLoadError(_describe(name_or_path, error)) from None
    return _checked(name_or_path, strategy)


def _resolve(name: str) -> object:
    path = BUILT_IN.get(name.replace("-", "_"))
    if path is None and ":" not in name:
        found = entry_points(group=ENTRY_POINT_GROUP, name=name)
        if not found:
            raise StrategyLoadError(
                f"unknown strategy {name!r}: not built in ({', '.join(BUILT_IN)}), not an "
                f"entry point in {ENTRY_POINT_GROUP!r}, not package.module:attribute"
            )
        return next(iter(found)).load()
    module_name, _, attribute = (path or name).partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise StrategyLoadError(f"{name}: cannot import {module_name}: {error}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise StrategyLoadError(f"{name}: {module_name} has no {attribute!r}") from None


def _parameter_names(target: type) -> set[str]:
    if dataclasses.is_dataclass(target):
        return {f.name for f in dataclasses.fields(target) if f.init}
    if issubclass(target, BaseModel):
        return set(target.model_fields)
    raise StrategyLoadError(f"{target.__name__}: a strategy class must be a dataclass or model")


def _checked(name: str, strategy: object) -> Strategy:
    if not isinstance(strategy, Strategy):
        raise StrategyLoadError(f"{name}: has no price(rfq, market) method")
    return strategy


def _describe(name: str, error: ValidationError) -> str:
    lines = [f"{name}: invalid parameters"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(all)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)
