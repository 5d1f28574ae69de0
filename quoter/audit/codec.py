"""The machinery of the trail's codec: how one field of an event is checked on the way in and
written on the way out. Each event field names its JSON key and its shape; `quoter.audit.events`
declares the events with these, and encodes and decodes them field by field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, cast


class EventError(ValueError):
    """A trail record that does not hold what its kind promises; the message names the field."""


class Absent:
    """A field the record leaves out (unlike None, which the record holds as null)."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = Absent()
NO_EXTRA: Final[Mapping[str, object]] = MappingProxyType({})  # shared: events are frozen


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """How one JSON value is read (`load`: checked, raising EventError naming `where`) and
    written back (`dump`), and what it is called in an error."""

    name: str
    load: Callable[[object, str], Any]
    dump: Callable[[Any], object] = lambda value: value
    form: str = "plain"  # optional, many or nested: of `inner`, or of `cls`
    inner: Shape | None = None
    cls: type | None = None


def _wrong(shape: str, value: object, where: str) -> EventError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return EventError(f"{where}: expected {shape}, found {shown}")


def _simple(name: str, ok: Callable[[object], bool]) -> Shape:
    def load(value: object, where: str) -> object:
        if not ok(value):
            raise _wrong(name, value, where)
        return value

    return Shape(name, load)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


TEXT = _simple("a string", lambda v: isinstance(v, str))
NUMBER = _simple("a number", _is_number)
INT = _simple("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
BOOL = _simple("true or false", lambda v: isinstance(v, bool))
OBJECT = _simple("an object", lambda v: isinstance(v, dict))
JSON = _simple("a JSON value", lambda _: True)


def optional(shape: Shape) -> Shape:
    """The shape, or null."""

    name = f"{shape.name} or null"

    def load(value: object, where: str) -> object:
        if value is None:
            return None
        try:
            return shape.load(value, where)
        except EventError:
            if shape.form != "plain":
                raise  # the error inside names its own place
            raise _wrong(name, value, where) from None

    def dump(value: object) -> object:
        return None if value is None else shape.dump(value)

    return Shape(name, load, dump, "optional", shape)


def many(shape: Shape) -> Shape:
    """A JSON array of the shape, held as a tuple."""

    def load(value: object, where: str) -> tuple[object, ...]:
        if not isinstance(value, list):
            raise _wrong(f"a list of {shape.name}", value, where)
        return tuple(shape.load(item, f"{where}[{i}]") for i, item in enumerate(value))

    def dump(value: tuple[object, ...]) -> list[object]:
        return [shape.dump(item) for item in value]

    return Shape(f"a list of {shape.name}", load, dump, "many", shape)


def key(name: str, shape: Shape, *, omitted: bool = False) -> Any:
    """An event field: its JSON key and shape; `omitted`: the record may leave it out (ABSENT)."""
    meta = {"key": name, "shape": shape}
    if omitted:
        return dataclasses.field(default=ABSENT, metadata=meta)
    return dataclasses.field(metadata=meta)


def extra() -> Any:
    """The keys of a record its kind does not name (an older or newer writer's), kept as read
    so the record re-encodes to the same bytes."""
    return dataclasses.field(default_factory=_no_extra, metadata={"extra": True})


def _no_extra() -> Mapping[str, object]:
    return NO_EXTRA


def fields_of(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if "key" in f.metadata)


# The dump of each event type, compiled once from its fields (as dataclasses builds __init__):
# the writers encode a record per decision, and a loop over the fields cost five times the
# plain dict it replaced.
_DUMPS: dict[type[Any], Callable[[Any], dict[str, object]]] = {}


def _as_held(shape: Shape) -> bool:
    """The shape's JSON is the value as held (no dump call needed)."""
    if shape.form == "optional":
        return shape.inner is not None and _as_held(shape.inner)
    return shape.form == "plain"


def _compile_dump(cls: type[Any]) -> Callable[[Any], dict[str, object]]:
    env: dict[str, object] = {"ABSENT": ABSENT}
    lines = ["def dump(value):", "    out = {}"]
    for index, f in enumerate(fields_of(cls)):
        shape: Shape = f.metadata["shape"]
        expr = "v"
        if not _as_held(shape):
            env[f"dump_{index}"] = shape.dump
            expr = f"dump_{index}(v)"
        lines.append(f"    v = value.{f.name}")
        put = f"out[{f.metadata['key']!r}] = {expr}"
        lines.append(f"    if v is not ABSENT: {put}" if f.default is ABSENT else f"    {put}")
    if any(f.metadata.get("extra") for f in dataclasses.fields(cls)):
        lines.append("    if value.extra: out.update(value.extra)")
    lines.append("    return out")
    exec("\n".join(lines), env)
    return cast(Callable[[Any], dict[str, object]], env["dump"])


def dump_fields(value: object) -> dict[str, object]:
    """The record's JSON object: each field under its key, absent ones left out, then any
    extra keys as they were read."""
    kind: type[Any] = type(value)
    dump = _DUMPS.get(kind)
    if dump is None:
        dump = _DUMPS[kind] = _compile_dump(kind)
    return dump(value)


def load_fields(cls: type, data: Mapping[str, object], where: str) -> Any:
    """`cls` from a JSON object, each field checked; `where` names the object in errors."""
    values: dict[str, object] = {}
    named = set()
    for f in fields_of(cls):
        name = f.metadata["key"]
        named.add(name)
        if name not in data:
            if f.default is ABSENT:
                continue
            raise EventError(f"{where}: {name} is missing")
        values[f.name] = f.metadata["shape"].load(data[name], f"{where}: {name}")
    rest = {k: v for k, v in data.items() if k not in named}
    if any(f.metadata.get("extra") for f in dataclasses.fields(cls)):
        values["extra"] = rest
    elif rest:
        raise EventError(f"{where}: unexpected {', '.join(sorted(rest))}")
    return cls(**values)


def nested(cls: type) -> Shape:
    """A JSON object read into the dataclass `cls` by its fields."""

    def load(value: object, where: str) -> object:
        if not isinstance(value, dict):
            raise _wrong("an object", value, where)
        return load_fields(cls, value, where)

    return Shape(f"an object ({cls.__name__})", load, dump_fields, "nested", cls=cls)
