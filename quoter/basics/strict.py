"""Strict numbers for the values people write (configuration, strategy parameters): pydantic
would turn "5" into 5 and true into 1, and lets inf and nan through; a limit must not."""

from __future__ import annotations

import math
import types
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time, timedelta
from typing import Annotated, Union, get_args, get_origin


def strict_problem(annotation: object, value: object) -> str | None:
    """Why `value` may not stand for `annotation` (a number written as text or as a bool, a bool
    written as text or a number, a non-finite number), also inside lists and tables; None when
    there is no such problem (pydantic checks the rest)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return strict_problem(get_args(annotation)[0], value)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        problems = [strict_problem(arg, value) for arg in get_args(annotation)]
        return None if None in problems else problems[0]
    if annotation is bool:
        return None if isinstance(value, bool) else f"must be true or false, not {_kind(value)}"
    if annotation is int or annotation is float:
        return _number_problem(value)
    if annotation in _TIMES and isinstance(value, int | float):
        return f"must be a {annotation.__name__} (such as 08:00:00), not a number"
    return _inside(origin, get_args(annotation), value)


_TIMES = (time, date, datetime, timedelta)


def _number_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {_kind(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    return None


def _inside(origin: object, args: tuple[object, ...], value: object) -> str | None:
    if not args:
        return None
    if isinstance(origin, type) and issubclass(origin, Mapping) and isinstance(value, Mapping):
        for key, item in value.items():
            problem = strict_problem(args[-1], item)
            if problem is not None:
                return f"{key}: {problem}"
        return None
    if _is_collection(origin) and isinstance(value, list | tuple | set | frozenset):
        # tuple[X, ...] and list[X] repeat one type; tuple[X, Y] gives one per place.
        repeated = len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis)
        for index, item in enumerate(value):
            if not repeated and index >= len(args):
                return None  # pydantic counts the places
            problem = strict_problem(args[0] if repeated else args[index], item)
            if problem is not None:
                return f"[{index}]: {problem}"
    return None


def _kind(value: object) -> str:
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, bool):
        return f"the bool {str(value).lower()}"
    return f"a {type(value).__name__}"


def _is_collection(origin: object) -> bool:
    return isinstance(origin, type) and issubclass(origin, Sequence | AbstractSet)
