"""The kill switch: latched kills (kept on disk across restarts) and soft conditions.

    ACTIVE    quoting
    REDUCING  a condition holds (quota reserve reached, stale curve, ...): no new quotes,
              withdrawals and reads go on; lifts by itself when the condition clears
    HALTED    a kill covering everything is latched: every live quote withdrawn, nothing new,
              until a person resumes

A kill may cover only some areas, products or strategies; then the rest goes on quoting.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class LatchError(Exception):
    """The latch file cannot be read or written; the message names it."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What a kill covers; an empty dimension covers everything on it."""

    areas: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    strategies: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return not (self.areas or self.products or self.strategies)

    def covers(self, area: str, product: str, strategy: str) -> bool:
        return (
            (not self.areas or area in self.areas)
            and (not self.products or product in self.products)
            and (not self.strategies or strategy in self.strategies)
        )


@dataclass(frozen=True, slots=True)
class Kill:
    reason: str
    by: str
    at: datetime
    scope: Scope = field(default_factory=Scope)


class KillSwitch:
    """Single-owner state of the engine; every kill is written to the latch file first."""

    def __init__(self, latch_path: Path | None) -> None:
        self._path = latch_path
        self._kills: list[Kill] = _read_latch(latch_path) if latch_path else []
        self._conditions: dict[str, str] = {}
        self._seen = _stamp(latch_path)

    def sync(self) -> bool:
        """Take in kills and resumes another process (`quoter kill`, `quoter resume`) wrote to
        the latch; True if they changed anything."""
        if self._path is None or _stamp(self._path) == self._seen:
            return False
        with _locked(self._path):
            kills = _read_latch(self._path)
            self._seen = _stamp(self._path)
        changed = kills != self._kills
        self._kills = kills
        return changed

    @property
    def latched_on_disk(self) -> bool:
        """Whether kills are kept in a file other processes may write (`quoter kill`)."""
        return self._path is not None

    @property
    def kills(self) -> tuple[Kill, ...]:
        return tuple(self._kills)

    @property
    def conditions(self) -> Mapping[str, str]:
        return dict(self._conditions)

    @property
    def state(self) -> TradingState:
        if any(k.scope.everything for k in self._kills):
            return TradingState.HALTED
        if self._conditions:
            return TradingState.REDUCING
        return TradingState.ACTIVE

    def blocked_by(self, area: str, product: str, strategy: str) -> str | None:
        """Why a new quote on this area, product and strategy may not go out, or None."""
        for kill in self._kills:
            if kill.scope.covers(area, product, strategy):
                return f"killed: {kill.reason}"
        if self._conditions:
            code = sorted(self._conditions)[0]
            return f"reducing: {code}"
        return None

    def covers_area(self, area: str) -> bool:
        """A latched kill stops everything in `area`."""
        return any(
            k.scope.covers(area, "", "") and not k.scope.products and not k.scope.strategies
            for k in self._kills
        )

    def kill(self, kill: Kill) -> None:
        """Latch a kill. It holds in memory even if the latch file cannot be written (raised)."""
        self._kills.append(kill)
        self._update(lambda kills: [*kills, kill])

    def resume(self) -> tuple[Kill, ...]:
        """Lift every latched kill; returns what was lifted."""
        lifted = tuple(self._kills)
        self._kills = []
        return self._update(lambda kills: []) or lifted

    def set_condition(self, code: str, detail: str) -> None:
        self._conditions[code] = detail

    def clear_condition(self, code: str) -> None:
        self._conditions.pop(code, None)

    def _update(self, change: Callable[[list[Kill]], list[Kill]]) -> tuple[Kill, ...]:
        """Read, change and write the latch under a lock, so no process's kill is lost;
        returns the kills the file held before."""
        if self._path is None:
            return ()
        try:
            with _locked(self._path):
                before = _read_latch(self._path)
                self._kills = change(before)
                _write_latch(self._path, self._kills)
                self._seen = _stamp(self._path)
        except OSError as error:
            raise LatchError(f"{self._path}: cannot write the kill latch: {error}") from error
        return tuple(before)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path else None
    except OSError:  # missing, or not reachable: nothing to take in
        return None
    return None if stat is None else (stat.st_mtime_ns, stat.st_size)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_latch(path: Path, kills: list[Kill]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump([_kill_to_json(k) for k in kills], f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _kill_to_json(kill: Kill) -> dict[str, object]:
    data = asdict(kill)
    data["at"] = kill.at.isoformat()
    data["scope"] = {k: sorted(v) for k, v in asdict(kill.scope).items()}
    return data


def _read_latch(path: Path) -> list[Kill]:
    if not path.exists():
        return []
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return [
            Kill(
                reason=str(r["reason"]),
                by=str(r["by"]),
                at=datetime.fromisoformat(r["at"]),
                scope=Scope(**{k: frozenset(v) for k, v in r["scope"].items()}),
            )
            for r in records
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        # A latch we cannot read may hold a kill: refusing to start is the safe side.
        raise LatchError(f"{path}: unreadable kill latch ({error}); fix or remove it") from error
