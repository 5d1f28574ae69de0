"""The kill switch: latched kills (kept on disk across restarts) and soft conditions.

    ACTIVE    quoting
    REDUCING  a condition holds (quota reserve reached, stale curve, ...): no new quotes,
              withdrawals and reads go on; lifts by itself when the condition clears
    HALTED    a kill covering everything is latched: every live quote withdrawn, nothing new,
              until a person resumes

A kill may cover only some areas, products or strategies (its `Scope`, checked at the door:
kill_scope.py); then the rest goes on quoting. Each latched kill has an id, by which it can be
lifted alone. Ids are never given twice in a latch file's life: the file keeps the highest id it
ever gave (`last-id`), so a kill latched after a resume, or after a restart, gets a new number
and a `quoter resume 1` typed for a kill already lifted cannot lift another.

The latch file: `{"last-id": N, "kills": [kill, ...]}` (`kill_to_json`'s form). A file written
before the counter is the bare list of kills; it reads with the highest id in it as its counter.

Only `quoter resume` lifts a kill. A latch that cannot be read, or that is removed, while the bot
runs is not a resume: every kill the bot holds then is kept in memory as *unwritten* (with any
kill latched meanwhile) and written back, beside whatever the file holds, at the first read
and write of it that succeeds. A file another process wrote and that reads is the latch.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from quoter.basics.private_file import write_private
from quoter.engine.kill_scope import KNOWN_AREAS, KNOWN_PRODUCTS, describe_scope
from quoter.engine.kill_scope import Scope as Scope  # where the engine has always found it
from quoter.timefmt import stamp

STATE_MODE = 0o600  # the latch names who killed what: the desk's own
MAX_COMMAND_ID = 64


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class LatchError(Exception):
    """The latch file cannot be read or written; the message names it."""


class UnknownKill(LookupError):
    """A kill to lift by id is not latched; the message lists the ones that are."""


@dataclass(frozen=True, slots=True)
class Kill:
    reason: str
    by: str
    at: datetime
    scope: Scope = field(default_factory=Scope)
    id: int = 0  # given when latched; never given twice in the latch file's life
    # The `quoter kill` that made it: its request to the bot and its own latching carry it,
    # so a hung bot that wakes to the request takes it for the kill already latched.
    command_id: str | None = None


def kill_label(kill: Kill) -> str:
    """A kill in one line for the trail and the log: its id (what `quoter resume --kill` takes),
    its reason and who killed."""
    return f"kill {kill.id}: {kill.reason} (by {kill.by})"


class _Latch(NamedTuple):
    """What the latch file holds: the kills in force, and the highest id ever given."""

    kills: list[Kill]
    last_id: int


def describe_kill(kill: Mapping[str, Any]) -> str:
    """One line for a person, from `kill_to_json`'s form:
    `curve stale — kill 2, areas DE, by engine at 2026-03-02 11:00:00+01:00`."""
    at = stamp(datetime.fromisoformat(str(kill["at"])))
    scope = describe_scope(kill.get("scope", {}))
    return f"{kill['reason']} — kill {kill.get('id', '?')}, {scope}, by {kill['by']} at {at}"


RESUME_HINT = "        `quoter resume --kill ID` lifts one, `quoter resume` every one"


def kill_lines(kills: Iterable[Mapping[str, Any]]) -> list[str]:
    """The latched kills as the status shows them, one line each, then how to lift them."""
    lines = [f"KILLED  {describe_kill(k)}" for k in kills]
    return [*lines, RESUME_HINT] if lines else []


def start_banner(kills: Iterable[Mapping[str, Any]]) -> list[str]:
    """What a run starting on latched kills says before anything else: that it is halted (in
    whole, or in part: where the kills cover), by which kills, and how to lift them; nothing
    when no kill is latched."""
    kills = list(kills)
    if not kills:
        return []
    scopes = [describe_scope(k.get("scope", {})) for k in kills]
    named = [f"kill {k.get('id', '?')} ({scope})" for k, scope in zip(kills, scopes, strict=True)]
    which = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    latched = f"{which} {'is' if len(kills) == 1 else 'are'} latched"
    if "everything" in scopes:
        head = f"HALTED: {latched}: nothing is quoted until `quoter resume`"
    else:
        they = "it covers" if len(kills) == 1 else "they cover"
        head = (
            f"HALTED in part: {latched}: nothing {they} is quoted until `quoter resume`;"
            " the rest is quoted"
        )
    return [head, *kill_lines(kills)]


class KillSwitch:
    """Single-owner state of the engine; every kill is written to the latch file first."""

    def __init__(self, latch_path: Path | None) -> None:
        self._path = latch_path
        latch = _read_latch(latch_path) if latch_path else _Latch([], 0)
        self._kills: list[Kill] = latch.kills
        self._last_id = latch.last_id
        self._file_id = latch.last_id  # the highest id the file is known to have given
        self._conditions: dict[str, str] = {}
        self._seen = _stamp(latch_path)
        self._unwritten: list[Kill] = []  # held here, not (or no longer) in the file
        self._latch_problem: str | None = None

    def sync(self) -> bool:
        """Take in kills and resumes another process (`quoter kill`, `quoter resume`) wrote to
        the latch, and write back the kills it lacks; True if the kills in force changed.
        LatchError if the file cannot be read or written: the kills held stay in force."""
        path = self._path
        if path is None or (_stamp(path) == self._seen and not self._unwritten):
            return False
        before = list(self._kills)
        if self._unwritten or (self._kills and not path.exists()):
            self._update(lambda latch: latch)
        else:
            with self._kept_on_failure(path), _locked(path):
                latch = _read_latch(path)
                self._seen = _stamp(path)
            self._kills = latch.kills
            self._last_id = max(self._last_id, latch.last_id)
            self._file_id = max(self._file_id, latch.last_id)
        return self._kills != before

    @property
    def unwritten(self) -> tuple[Kill, ...]:
        """Kills in force that the latch file does not hold yet: a restart would not see them."""
        return tuple(self._unwritten)

    @property
    def latch_problem(self) -> str | None:
        """Why the unwritten kills are not in the file (the last error); None when none are."""
        return self._latch_problem if self._unwritten else None

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

    def has_condition(self, code: str) -> bool:
        """`code in conditions`, without the copy: asked every poll and every answer."""
        return code in self._conditions

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

    def kill(self, kill: Kill) -> Kill:
        """Latch a kill; returns it with its id. It holds in memory even if the latch file
        cannot be read or written (LatchError, raised), and is written at the next sync that
        can."""
        held = next((k for k in self._kills if same_kill(k, kill)), None)
        if held is not None and kill.command_id is not None:
            return held  # its command's other path latched it first
        latched = replace(kill, id=self._last_id + 1)
        self._kills.append(latched)
        self._last_id = latched.id
        if self._path is None:
            return latched
        self._unwritten.append(latched)
        self._update(lambda latch: latch)
        # Numbered by the file's counter, read under its lock: another process may have
        # latched since we last read it.
        return next(k for k in reversed(self._kills) if same_kill(k, latched))

    def resume(self, ids: Collection[int] | None = None) -> tuple[Kill, ...]:
        """Lift the latched kills named by `ids`, or every one (None); returns what was lifted.
        UnknownKill, lifting nothing, if one of `ids` is not latched."""
        lifted: tuple[Kill, ...] = ()

        def lift(latch: _Latch) -> _Latch:
            nonlocal lifted
            kills = latch.kills
            latched = {k.id for k in kills}
            missing = sorted(set(ids or ()) - latched)
            if missing:
                have = ", ".join(str(i) for i in sorted(latched)) or "none"
                raise UnknownKill(
                    f"no kill {', '.join(map(str, missing))} is latched (latched: {have})"
                )
            lifted = tuple(k for k in kills if ids is None or k.id in ids)
            return _Latch([k for k in kills if k not in lifted], latch.last_id)  # ids kept

        if self._path is None:
            self._kills = lift(_Latch(self._kills, self._last_id)).kills
        else:
            self._update(lift)
        return lifted

    def set_condition(self, code: str, detail: str) -> None:
        self._conditions[code] = detail

    def clear_condition(self, code: str) -> None:
        conditions = self._conditions
        if code in conditions:  # nearly never: asked three times a poll, and a pop is a call
            del conditions[code]

    def _update(self, change: Callable[[_Latch], _Latch]) -> None:
        """Read the latch, add the kills it lacks, change it and write it, under a lock, so no
        process's kill is lost and no two get one id. A file that cannot be read or written
        changes nothing here (LatchError): every kill held stays in force, to be written back."""
        path = self._path
        if path is None:
            return
        with self._kept_on_failure(path), _locked(path):
            if not path.exists():
                self._hold_unwritten(self._kills)  # a latch removed is not a resume
            read = _read_latch(path)
            latch = _with_kills(read, self._unwritten, self._last_id, self._file_id)
            after = change(latch)
            _write_latch(path, after)
            self._kills, self._unwritten = after.kills, []
            self._last_id = max(self._last_id, after.last_id)
            self._file_id = max(self._file_id, after.last_id)
            self._seen = _stamp(path)

    @contextmanager
    def _kept_on_failure(self, path: Path) -> Iterator[None]:
        """A latch that cannot be read or written (LatchError, raised) may no longer hold the
        kills in force: every one is kept to be written back."""
        try:
            yield
        except LatchError as error:
            self._hold_unwritten(self._kills, str(error))
            raise
        except OSError as error:
            problem = f"{path}: cannot write the kill latch: {error}"
            self._hold_unwritten(self._kills, problem)
            raise LatchError(problem) from error

    def _hold_unwritten(self, kills: Iterable[Kill], problem: str | None = None) -> None:
        """Keep `kills` to be written back: the file may not hold them (any more)."""
        held = self._unwritten
        held += [k for k in kills if not any(same_kill(k, h) for h in held)]
        if problem is not None:
            self._latch_problem = problem


def same_kill(a: Kill, b: Kill) -> bool:
    """One kill, whatever id it was given (written back, it is not latched twice), and whoever
    latched it for the one command that made it."""
    if a.command_id is not None and a.command_id == b.command_id:
        return True
    return replace(a, id=0) == replace(b, id=0)


def _with_kills(latch: _Latch, kills: Iterable[Kill], last_id: int, file_id: int) -> _Latch:
    """The latch with `kills` it does not hold yet added. A kill the file once numbered (its
    id at most `file_id`) keeps its id, unless another kill holds it now; one numbered in
    memory only keeps its id unless the file has given that one (or a higher) since. The
    counter is at least `last_id`: no id given in memory is given again."""
    held, last = list(latch.kills), latch.last_id
    for kill in kills:
        if any(same_kill(kill, k) for k in held):
            continue
        numbered = kill.id <= file_id and all(k.id != kill.id for k in held)
        kill_id = kill.id if numbered else max(kill.id, last + 1)
        last = max(last, kill_id)
        held.append(replace(kill, id=kill_id))
    return _Latch(held, max(last, last_id))


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path else None
    except OSError:  # missing, or not reachable: nothing to take in
        return None
    return None if stat is None else (stat.st_mtime_ns, stat.st_size)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, STATE_MODE)
    with os.fdopen(descriptor, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def kill_to_json(kill: Kill) -> dict[str, Any]:
    """A kill as the latch file, the admin interface and the status show it."""
    body: dict[str, Any] = {
        "id": kill.id,
        "reason": kill.reason,
        "by": kill.by,
        "at": kill.at.isoformat(),
        "scope": kill.scope.to_json(),
    }
    if kill.command_id is not None:
        body["command-id"] = kill.command_id
    return body


def _write_latch(path: Path, latch: _Latch) -> None:
    body = {"last-id": latch.last_id, "kills": [kill_to_json(k) for k in latch.kills]}
    write_private(path, json.dumps(body, indent=1))


def read_latch(path: Path) -> tuple[Kill, ...]:
    """The kills latched in the file; LatchError if it cannot be read (a start refused)."""
    return tuple(_read_latch(path).kills)


def _read_latch(path: Path) -> _Latch:
    if not path.exists():
        return _Latch([], 0)
    try:
        return _latch_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError) as error:
        # A latch we cannot read may hold a kill: refusing to start is the safe side.
        raise LatchError(
            f"{path}: unreadable kill latch ({error}); fix it, or remove it to lift every "
            "kill it held"
        ) from error


def _latch_from_json(body: object) -> _Latch:
    """The latch as the file holds it; ValueError naming what is wrong with it."""
    last_id: object = None
    if isinstance(body, dict):
        records, last_id = body.get("kills"), body.get("last-id")
        if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
            raise ValueError(f"last-id {last_id!r} is not a kill's number")
        if not isinstance(records, list):
            raise ValueError(f"kills is a list of kills, not {type(records).__name__}")
    elif isinstance(body, list):  # written before the counter: the highest id is the counter
        records = body
    else:
        raise ValueError(f"the latch is an object or a list of kills, not {type(body).__name__}")
    kills = [_kill_from_json(r) for r in records]
    given = [k.id for k in kills if k.id]
    if len(set(given)) != len(given):
        twice = sorted({i for i in given if given.count(i) > 1})
        raise ValueError(f"two kills have id {', '.join(map(str, twice))}")
    last = max([0, *given])
    if isinstance(last_id, int):
        if last_id < last:
            raise ValueError(f"last-id {last_id} is below kill {last}'s id")
        last = last_id
    # A latch written before kills had ids: numbered in file order after the others, the
    # same at every read until the next write keeps them.
    for i, kill in enumerate(kills):
        if not kill.id:
            last += 1
            kills[i] = replace(kill, id=last)
    return _Latch(kills, last)


def _kill_from_json(record: object) -> Kill:
    """One kill as the latch holds it; ValueError naming what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"a kill is an object, not {type(record).__name__}")
    scope = record.get("scope", {})
    if not isinstance(scope, dict):
        raise ValueError(f"scope is an object, not {type(scope).__name__}")
    at = datetime.fromisoformat(_text(record, "at"))
    if at.tzinfo is None:
        raise ValueError(f"at {at.isoformat()} has no UTC offset")
    kill_id = record.get("id", 0)
    if not isinstance(kill_id, int) or isinstance(kill_id, bool) or kill_id < 0:
        raise ValueError(f"id {kill_id!r} is not a kill's number")
    return Kill(
        reason=_text(record, "reason"),
        by=_text(record, "by"),
        at=at,
        scope=Scope(
            # Spelt as the venue spells them: a kill written before the check at the door
            # (`de`) covers what its writer meant.
            areas=_respelt(_names(scope, "areas"), KNOWN_AREAS),
            products=_respelt(_names(scope, "products"), KNOWN_PRODUCTS),
            strategies=frozenset(_names(scope, "strategies")),
        ),
        id=kill_id,
        command_id=_command_id(record),
    )


def _command_id(record: Mapping[str, object]) -> str | None:
    value = record.get("command-id")
    if value is not None and not (isinstance(value, str) and 0 < len(value) <= MAX_COMMAND_ID):
        raise ValueError(f"command-id is not a command's id: {str(value)[:40]!r}")
    return value


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} is missing or not text")
    return value


def _names(scope: Mapping[str, object], key: str) -> list[str]:
    values = scope.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"scope {key} is not a list of names")
    return values


def _respelt(values: Iterable[object], known: Iterable[str]) -> frozenset[str]:
    spelling = {k.casefold(): k for k in known}
    return frozenset(spelling.get(str(v).casefold(), str(v)) for v in values)
