"""Numeric command-line values checked where they are read: argparse's `type=` for a flag, so
`--speed 0`, `--speed nan` or `--port 99999` is refused by argparse itself, naming the flag and
the range it takes (exit 2), instead of failing later, deep in a clock or a validator, with a
traceback. Every command's numeric flags use these, one rule for all."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from quoter.sandbox.config import SandboxConfig

Value = TypeVar("Value", int, float)


@dataclass(frozen=True, slots=True)
class Range:
    """Bounds of a flag's value: `above` is exclusive, `at_least` and `at_most` inclusive."""

    above: float | None = None
    at_least: float | None = None
    at_most: float | None = None

    def holds(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False  # neither nan nor inf is a speed, a period or a weight
        return (
            (self.above is None or value > self.above)
            and (self.at_least is None or value >= self.at_least)
            and (self.at_most is None or value <= self.at_most)
        )

    def describe(self, kind: str) -> str:
        """`a number above 0 and at most 3600`, as the refusal says it."""
        bounds = [
            f"{word} {bound:g}"
            for word, bound in (
                ("above", self.above),
                ("at least", self.at_least),
                ("at most", self.at_most),
            )
            if bound is not None
        ]
        return " ".join([kind, " and ".join(bounds)]) if bounds else kind


def number(bounds: Range) -> Callable[[str], float]:
    """The `type=` of a flag taking a finite number within `bounds`."""

    def parse(text: str) -> float:
        return _checked(text, float, bounds, "a number")

    return parse


def whole(bounds: Range) -> Callable[[str], int]:
    """The `type=` of a flag taking a whole number within `bounds`."""

    def parse(text: str) -> int:
        return _checked(text, int, bounds, "a whole number")

    return parse


def _checked(text: str, kind: Callable[[str], Value], bounds: Range, noun: str) -> Value:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give {bounds.describe(noun)}") from None
    if not bounds.holds(value):
        raise argparse.ArgumentTypeError(f"{text}: give {bounds.describe(noun)}")
    return value


def field_range(model: type[BaseModel], name: str) -> Range:
    """The bounds a configuration field declares (`Field(gt=0, le=3600)`), so that its flag
    refuses what its file would, one rule for both."""
    bounds: dict[str, float] = {}
    for rule in model.model_fields[name].metadata:
        for attribute, bound in (("gt", "above"), ("ge", "at_least"), ("le", "at_most")):
            value = getattr(rule, attribute, None)
            if value is not None:
                bounds[bound] = float(value)
        if getattr(rule, "lt", None) is not None:
            raise TypeError(f"{model.__name__}.{name}: an exclusive upper bound has no flag form")
    return Range(**bounds)


POSITIVE = Range(above=0)
NOT_NEGATIVE = Range(at_least=0)
AT_LEAST_ONE = Range(at_least=1)
PORT = Range(at_least=0, at_most=65535)
SANDBOX_SPEED = field_range(SandboxConfig, "speed")
