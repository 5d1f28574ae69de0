"""The machinery of the trail's codec: how one field of an event is checked on the way in and
written on the way out. Each event field names its JSON key and its shape; `quoter.audit.events`
declares the events with these, and encodes and decodes them field by field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final


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
    return dataclasses.field(default_factory=dict, metadata={"extra": True})


def fields_of(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if "key" in f.metadata)


_PLAIN = object()  # a field written as held: no dump call


_PLANS: dict[type[Any], tuple[tuple[str, str, Any], ...]] = {}  # a memo: the event types are fixed


def _plan(cls: type[Any]) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, key, dump) per field: what dump_fields does per event, worked out once."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan_of(cls)
    return plan


def _plan_of(cls: type[Any]) -> tuple[tuple[str, str, Any], ...]:
    return tuple(
        (
            f.name,
            f.metadata["key"],
            _PLAIN if f.metadata["shape"].form == "plain" else f.metadata["shape"].dump,
        )
        for f in fields_of(cls)
    )


def dump_fields(value: object) -> dict[str, object]:
    """The record's JSON object: each field under its key, absent ones left out, then any
    extra keys as they were read."""
    out: dict[str, object] = {}
    kind: type[Any] = type(value)
    for name, json_key, dump in _plan(kind):
        held = getattr(value, name)
        if held is not ABSENT:
            out[json_key] = held if dump is _PLAIN else dump(held)
    extra = getattr(value, "extra", None)
    if extra:
        out.update(extra)
    return out


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
