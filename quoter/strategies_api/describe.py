"""What a strategy takes: its one-line summary and each parameter's type, default and bounds,
read from the same annotations the loader validates (found and read by the loader itself)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from quoter.strategies_api.loader import (
    StrategyLoadError,
    parameter_annotations,
    parameter_names,
    resolve_strategy,
)
from quoter.strategies_api.market import Strategy
from quoter.strategy_names import BUILT_IN, ENTRY_POINT_GROUP

BOUNDS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length")
SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "multiple_of": "x", "min_length": "len>="}
SYMBOLS["max_length"] = "len<="


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # as people read it: `float [>= 0]`, `strategy`
    required: bool
    default: object  # a plain JSON value; None when required
    bounds: Mapping[str, object]  # gt, ge, lt, le, ... of the value itself
    description: str | None
    strategy: bool  # takes another strategy: a name, or {"name": ..., "params": {...}}


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    source: str  # "built-in", "entry point", "module"
    summary: str
    parameters: tuple[Parameter, ...] = ()
    error: str | None = None  # why it could not be described (it cannot be loaded either)


def describe_strategy(name: str) -> StrategyInfo:
    """`name` (as the loader takes it) described; StrategyLoadError if it cannot be found."""
    target = resolve_strategy(name)
    if not isinstance(target, type):  # a built strategy: it takes no parameters
        return StrategyInfo(name, _source(name), _summary(type(target)))
    fields = _fields(target)
    parameters = tuple(_parameter(key, field) for key, field in fields.items())
    return StrategyInfo(name, _source(name), _summary(target), parameters)


def installed_strategies() -> list[StrategyInfo]:
    """The built-ins, then the entry points; one that cannot be loaded says why."""
    names = [*BUILT_IN, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))]
    return [_described_or_error(name) for name in dict.fromkeys(names)]


def _described_or_error(name: str) -> StrategyInfo:
    try:
        return describe_strategy(name)
    except StrategyLoadError as error:
        return StrategyInfo(name, _source(name), "", error=str(error))


def _source(name: str) -> str:
    if name.replace("-", "_") in BUILT_IN:
        return "built-in"
    return "module" if ":" in name else "entry point"


def _summary(target: type) -> str:
    doc = vars(target).get("__doc__") or ""
    first = doc.strip().split("\n\n")[0]
    if first.startswith(f"{target.__name__}("):  # the signature a dataclass writes itself
        return ""
    return " ".join(first.split())


def _fields(target: type) -> dict[str, FieldInfo]:
    """Each parameter as pydantic validates it, in declaration order."""
    names = parameter_names(target)
    pydantic_fields: Mapping[str, FieldInfo] | None = getattr(target, "__pydantic_fields__", None)
    if pydantic_fields is not None:  # a model or a pydantic dataclass
        return {key: field for key, field in pydantic_fields.items() if key in names}
    annotations = parameter_annotations(target)
    return {
        f.name: FieldInfo.from_annotated_attribute(_as_type(annotations.get(f.name, typing.Any)), f)
        for f in dataclasses.fields(target)
        if f.name in names
    }


def _parameter(name: str, field: FieldInfo) -> Parameter:
    required = field.is_required()
    takes_strategy = field.annotation is Strategy
    return Parameter(
        name=name,
        type="strategy" if takes_strategy else type_text(field.annotation),
        required=required,
        default=None if required else _plain(_default(field)),
        bounds=_bounds(field.metadata),
        description=field.description,
        strategy=takes_strategy,
    )


def _default(field: FieldInfo) -> object:
    if field.default_factory is not None:
        try:
            return field.default_factory()  # type: ignore[call-arg]
        except Exception as error:  # the plugin's own code: said, not raised
            return f"(a default made at load: {type(error).__name__})"
    return None if field.default is PydanticUndefined else field.default


def _bounds(metadata: list[object]) -> dict[str, object]:
    return {
        key: value
        for item in metadata
        for key in BOUNDS
        if (value := getattr(item, key, None)) is not None
    }


def bounds_text(bounds: Mapping[str, object]) -> str:
    return " [" + ", ".join(f"{SYMBOLS[k]} {v}" for k, v in bounds.items()) + "]" if bounds else ""


def type_text(annotation: object) -> str:
    """`annotation` as people read it, bounds of inner values in brackets."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = FieldInfo.from_annotation(_as_type(annotation))
        return type_text(inner.annotation) + bounds_text(_bounds(inner.metadata))
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_text(arg) for arg in args)
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if annotation is type(None):
        return "None"
    if annotation is Ellipsis:
        return "..."
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_text(arg) for arg in args)}]" if args else name
    if isinstance(annotation, type):
        return "strategy" if annotation is Strategy else annotation.__name__
    return str(annotation).replace("typing.", "")


def _as_type(annotation: object) -> type[typing.Any]:
    return typing.cast(type[typing.Any], annotation)  # what pydantic reads: any annotation


def _plain(value: object) -> object:
    """`value` as JSON: enums by value, tables as objects, tuples as lists; a strategy by its
    class's name; anything else as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Strategy):
        return type(value).__name__
    return repr(value)
