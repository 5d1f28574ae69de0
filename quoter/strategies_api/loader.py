"""Find a strategy by name and build it from validated parameters.

A name is a built-in (`quoter.strategy_names.BUILT_IN`), an entry point in the group
`quoter.strategies`, or `package.module:attribute`. The attribute is a class of typed parameters
(a dataclass, pydantic dataclass or model) with a `price` method; its parameters are validated by
pydantic from their annotations (bounds declared with `Annotated[float, Field(ge=0)]`, an
`annotated_types` bound or `dataclasses.field(metadata={"ge": 0})`), strictly: a number given
as text or as a bool is refused, and so is a NaN or infinite number, given or by default. An
unknown parameter is refused by name. Whatever a plugin raises while it is imported or built is
a `StrategyLoadError` too: a swap refused, never a crash.

A module is looked for in the installed packages, then in the strategy folders
(`quoter.strategy_paths`); one created since the process started is found, and one whose file
changed since it was imported is imported afresh (the module named, not the modules it imports;
a strategy built from the old one keeps its code).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import math
import os
import sys
import typing
from collections.abc import Mapping
from importlib.metadata import entry_points

from pydantic import BaseModel, TypeAdapter, ValidationError

from quoter.basics.strict import strict_problem
from quoter.strategies_api.market import Strategy
from quoter.strategy_names import BUILT_IN, ENTRY_POINT_GROUP
from quoter.strategy_paths import searched_folders


class StrategyLoadError(Exception):
    """A strategy that cannot be found or built; the message names the strategy and parameter."""


def load_strategy(name_or_path: str, params: Mapping[str, object]) -> Strategy:
    """The strategy `name_or_path` built from `params`."""
    target = resolve_strategy(name_or_path)
    if not isinstance(target, type):
        if params:
            raise StrategyLoadError(f"{name_or_path}: is an object and takes no parameters")
        return _checked(name_or_path, target)
    unknown = sorted(set(params) - parameter_names(target))
    if unknown:
        raise StrategyLoadError(
            f"{name_or_path}: unknown parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(parameter_names(target)))}"
        )
    _refuse_loose(name_or_path, target, params)
    try:
        strategy: object = TypeAdapter(target).validate_python(dict(params))
    except ValidationError as error:
        raise StrategyLoadError(_describe(name_or_path, error)) from None
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the plugin's own validators and __post_init__
        raise StrategyLoadError(f"{name_or_path}: cannot be built: {_error(error)}") from None
    _refuse_non_finite(name_or_path, target, strategy)
    return _checked(name_or_path, strategy)


def parameter_annotations(target: type) -> dict[str, object]:
    """Each parameter's annotation, bounds and all (as pydantic validates it)."""
    if issubclass(target, BaseModel):
        return {name: f.annotation for name, f in target.model_fields.items()}
    try:
        return dict(typing.get_type_hints(target, include_extras=True))
    except Exception:  # an annotation that does not resolve: pydantic names it below
        return {}


def _refuse_loose(name: str, target: type, params: Mapping[str, object]) -> None:
    annotations = parameter_annotations(target)
    problems = [
        f"  {key}: {problem}"
        for key, value in params.items()
        if (problem := strict_problem(annotations.get(key), value)) is not None
    ]
    if problems:
        raise StrategyLoadError("\n".join([f"{name}: invalid parameters", *problems]))


def _refuse_non_finite(name: str, target: type, strategy: object) -> None:
    for key in sorted(parameter_names(target)):
        where = _non_finite(getattr(strategy, key, None))
        if where is not None:
            raise StrategyLoadError(
                f"{name}: invalid parameters\n  {key}{where}: must be a finite number"
            )


def _non_finite(value: object) -> str | None:
    """Where a NaN or infinite number sits in `value` ("" for the value itself), if anywhere."""
    if isinstance(value, float):
        return None if math.isfinite(value) else ""
    items: typing.Iterable[tuple[object, object]] = ()
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple | frozenset | set):
        items = enumerate(value)
    for key, item in items:
        inner = _non_finite(item)
        if inner is not None:
            return f"[{key!r}]{inner}" if isinstance(value, Mapping) else f"[{key}]{inner}"
    return None


def _error(error: BaseException) -> str:
    try:
        return f"{type(error).__name__}: {error}"[:300]
    except Exception:
        return type(error).__name__


def resolve_strategy(name: str) -> object:
    """What `name` stands for: a strategy class (or a built strategy), not yet built."""
    path = BUILT_IN.get(name.replace("-", "_"))
    if path is None and ":" not in name:
        found = entry_points(group=ENTRY_POINT_GROUP, name=name)
        if not found:
            raise StrategyLoadError(
                f"unknown strategy {name!r}: not built in ({', '.join(BUILT_IN)}), not an "
                f"entry point in {ENTRY_POINT_GROUP!r}, not package.module:attribute"
            )
        try:
            return next(iter(found)).load()
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # the entry point's module, as it is imported
            raise StrategyLoadError(
                f"{name}: cannot load its entry point: {_error(error)}"
            ) from None
    module_name, _, attribute = (path or name).partition(":")
    if not module_name or not attribute:
        raise StrategyLoadError(f"{name}: expected package.module:attribute")
    try:
        module = _import(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # a plugin module may raise anything as it is imported
        raise StrategyLoadError(
            f"{name}: cannot import {module_name}: {_error(error)} (searched {_searched()})"
        ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        where = getattr(module, "__file__", None) or "no file"
        raise StrategyLoadError(
            f"{name}: {module_name} ({where}) has no {attribute!r} (searched {_searched()})"
        ) from None


STAMP = "__quoter_file_stamp__"  # set on a module as it is loaded: its file's (mtime, size)
# Set with the stamp: the SHA-256 of the source as it was loaded, the version of a strategy that
# declares none (the file may be edited later; a strategy built from it keeps this code).
SOURCE = "__quoter_source_sha256__"


def _import(module_name: str) -> object:
    """`module_name` imported: found if created since the process started (the import
    system's directory listings are refreshed first), imported afresh if its file changed since
    it was loaded. Afresh, not `importlib.reload`: reload runs the new code in the old module's
    namespace, under the feet of a strategy still quoting from it."""
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, STAMP, None) == _stamp(loaded):
        return loaded
    importlib.invalidate_caches()
    if loaded is not None and hasattr(loaded, STAMP):
        del sys.modules[module_name]
        try:
            module = importlib.import_module(module_name)
        except BaseException:
            sys.modules[module_name] = loaded  # a broken edit leaves the old module in place
            raise
    else:
        module = importlib.import_module(module_name)
    stamp = _stamp(module)
    if stamp is not None:
        setattr(module, STAMP, stamp)
        setattr(module, SOURCE, _source_sha256(module))
    return module


def _source_sha256(module: object) -> str | None:
    return _file_sha256(getattr(module, "__file__", None))


def _file_sha256(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return None


def strategy_version(strategy: object) -> str | None:
    """What the audit trail records as the strategy's version: its own `version` attribute,
    else its module's `__version__`, else `source <12 hex digits>`, the start of the SHA-256
    of its module's source as it was loaded, so two codes under one name never read alike;
    None for a strategy whose module has no source file. The module is the one its `price`
    was defined in, not the one its name now stands for: a strategy built before its file was
    edited and imported afresh keeps its own code's version."""
    declared = getattr(strategy, "version", None)
    if declared is not None:
        return str(declared)
    namespace = _defined_in(strategy)
    declared = namespace.get("__version__")
    if declared is not None:
        return str(declared)
    digest = namespace.get(SOURCE) or _file_sha256(namespace.get("__file__"))
    return None if not isinstance(digest, str) else f"source {digest[:12]}"


def _defined_in(strategy: object) -> Mapping[str, object]:
    """The namespace of the module `strategy`'s price method was defined in."""
    namespace = getattr(getattr(type(strategy), "price", None), "__globals__", None)
    if isinstance(namespace, Mapping):
        return namespace
    module = sys.modules.get(type(strategy).__module__)
    return vars(module) if module is not None else {}


def _stamp(module: object) -> tuple[int, int] | None:
    path = getattr(module, "__file__", None)
    try:
        stat = os.stat(path) if isinstance(path, str) else None
    except OSError:
        return None
    return None if stat is None else (stat.st_mtime_ns, stat.st_size)


def _searched() -> str:
    folders = searched_folders()
    return "the installed packages" + "".join(f", {folder}" for folder in folders)


def parameter_names(target: type) -> set[str]:
    """The parameters `target` is built from; StrategyLoadError if it is no dataclass or model."""
    if dataclasses.is_dataclass(target):
        return {f.name for f in dataclasses.fields(target) if f.init}
    if issubclass(target, BaseModel):
        return set(target.model_fields)
    raise StrategyLoadError(f"{target.__name__}: a strategy class must be a dataclass or model")


def parameters_in_effect(strategy: object, given: Mapping[str, object]) -> dict[str, object]:
    """The parameters `strategy` was built with, defaults included, as JSON values (tables as
    objects, steps as lists, enum keys by their value): what the audit trail records, so a
    decision is explained by what priced it, not only by what the configuration named. `given`
    (the parameters it was built from) for a strategy object that has no typed parameters, or
    whose values cannot be read back (a plugin's own type that fails to show itself): a record
    is never refused for it."""
    try:
        found = _parameters(strategy)
    except Exception:  # a plugin's __str__ or property raising, a table too deep to walk
        found = None
    return dict(given) if found is None else found


def _parameters(strategy: object) -> dict[str, object] | None:
    if dataclasses.is_dataclass(strategy) and not isinstance(strategy, type):
        names = [f.name for f in dataclasses.fields(strategy) if f.init]
    elif isinstance(strategy, BaseModel):
        names = list(type(strategy).model_fields)
    else:
        return None
    return {name: _json_value(getattr(strategy, name)) for name in names}


def _json_value(value: object) -> object:
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(_json_value(k)): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    nested = _parameters(value)  # a strategy built into this one, say
    if nested is None:
        return str(value)
    kind = type(value)
    return {
        "strategy": f"{kind.__module__}:{kind.__qualname__}",
        "params": nested,
    }  # a date, a decimal, a plugin's own type: as it reads


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
