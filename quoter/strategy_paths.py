"""Where a strategy named `package.module:attribute` is found: the working directory and the
folders of `[strategies] paths`, searched only for a name nothing installed already answers.

The folders are searched by a finder placed last on `sys.meta_path`, not put on `sys.path`:
so the standard library, the installed packages and quoter's own modules (`quoter`,
`strategies`, also when quoter is installed editable, whose finder comes after `sys.path`'s)
are always found first, and a desk's folder holding a `json.py` or a `strategies/` cannot stand
in for them. Light on purpose: `quoter kill` reads the configuration this module is part of.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterable, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from pydantic import Field, ValidationInfo, field_validator

from quoter.basics.frozen import Frozen

CONFIG_DIR = "config_dir"  # the validation context's key: the folder of the file being read


class StrategiesConfig(Frozen):
    paths: tuple[Path, ...] = Field(
        (),
        description="folders searched for package.module:attribute strategies, after the "
        "working directory; a relative one is taken from the configuration file's folder",
    )

    @field_validator("paths")
    @classmethod
    def _from_config_dir(cls, paths: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        base = (info.context or {}).get(CONFIG_DIR)
        return tuple(p if base is None or p.is_absolute() else Path(base) / p for p in paths)


class StrategyFinder(importlib.abc.MetaPathFinder):
    """Finds top-level modules and packages in the strategy folders (their submodules are then
    found through the package's own `__path__`, as any package's are)."""

    def __init__(self) -> None:
        self.folders: list[Path] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if path is not None:  # a submodule: its package's __path__ is searched, not ours
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [str(f) for f in self.folders])


def strategy_folders(config: StrategiesConfig, cwd: Path | None = None) -> tuple[Path, ...]:
    """The working directory, then the configured folders, absolute, each once."""
    start = Path.cwd() if cwd is None else cwd
    folders = [start, *(start / p for p in config.paths)]
    return tuple(dict.fromkeys(f.absolute() for f in folders))


def add_strategy_folders(folders: Iterable[Path]) -> tuple[Path, ...]:
    """Search `folders` (after what is searched already) for strategies, in this process;
    every folder searched now. A worker process is handed the folders and calls this too."""
    finder = _finder()
    for folder in folders:
        if folder not in finder.folders:
            finder.folders.append(folder)
    return tuple(finder.folders)


def use_strategy_folders(config: StrategiesConfig) -> tuple[Path, ...]:
    """Search the working directory and `config`'s folders for strategies; every folder
    searched now."""
    return add_strategy_folders(strategy_folders(config))


def searched_folders() -> tuple[Path, ...]:
    """The strategy folders this process searches, in order (none until a command adds them)."""
    finder = next((f for f in sys.meta_path if isinstance(f, StrategyFinder)), None)
    return () if finder is None else tuple(finder.folders)


def _finder() -> StrategyFinder:
    # The import system's own registry holds the one finder: imports are process-wide.
    for finder in sys.meta_path:
        if isinstance(finder, StrategyFinder):
            return finder
    created = StrategyFinder()
    sys.meta_path.append(created)
    return created
