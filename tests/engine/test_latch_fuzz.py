"""The kill latch, damaged every way a file can be: each is refused with the file named (a latch
that cannot be read may hold a kill, so the bot does not start on it), never a traceback; good
latches, old ones without ids or without the counter of ids given (`last-id`) included, are read.
Each damaged list of kills is tried as the old file (the bare list) and as the new one's `kills`.
`pytest -s` prints the table."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from quoter.engine.killswitch import KillSwitch, LatchError

WRONG_VALUES: tuple[object, ...] = (None, 1, 1.5, [], {}, "x", True)
GOOD_KILL = {
    "reason": "manual kill",
    "by": "desk (cli)",
    "at": "2026-03-02T09:00:00+00:00",
    "scope": {"areas": ["DE"], "products": [], "strategies": []},
    "id": 1,
}


def _latch(kills: object, last_id: object = 1) -> dict[str, object]:
    """The latch file as written since it keeps its counter."""
    return {"last-id": last_id, "kills": kills}


def _variants(kill: dict[str, object]) -> list[tuple[str, object]]:
    """(kind, a latch's JSON value) broken one way each."""
    cases: list[tuple[str, object]] = [("not a latch", v) for v in (kill, "kill", 1, None, True)]
    for key in ("reason", "by", "at"):  # without a scope it covers everything; without an
        missing = {k: v for k, v in kill.items() if k != key}  # id it is numbered: both read
        cases.append(("missing key", [missing]))
    for key in ("reason", "by", "at", "scope", "id"):
        for wrong in WRONG_VALUES:
            if key in ("reason", "by") and isinstance(wrong, str):
                continue  # any text is a reason
            if (key, wrong) in (("scope", {}), ("id", 1)):
                continue  # an empty scope covers everything, and 1 is an id: good kills
            cases.append(("wrong type", [{**kill, key: wrong}]))
    for bad_at in ("yesterday", "2026-13-01T00:00:00+00:00", "2026-03-02T09:00:00", ""):
        cases.append(("bad time", [{**kill, "at": bad_at}]))
    for dim in ("areas", "products", "strategies"):
        for wrong in ("DE", [1], [None], {"DE": 1}, [["DE"]]):
            cases.append(("bad scope", [{**kill, "scope": {dim: wrong}}]))
    cases.append(("bad id", [{**kill, "id": -1}]))
    cases.append(("id twice", [kill, {**kill, "reason": "another"}]))
    cases.append(("not a kill", [kill, "kill"]))
    return cases


def _counter_variants(kill: dict[str, object]) -> list[tuple[str, object]]:
    """The latch with its counter, its counter or its list of kills broken one way each."""
    cases: list[tuple[str, object]] = [
        ("counter: " + kind, _latch(value))
        for kind, value in _variants(kill)
        if kind != "not a latch"
    ]
    for wrong in (*WRONG_VALUES, -1, 0):  # 0: below kill 1's id, which it would give again
        if wrong != 1:
            cases.append(("counter: bad last-id", _latch([kill], wrong)))
    for wrong in WRONG_VALUES:
        if wrong != []:
            cases.append(("counter: bad kills", _latch(wrong)))
    cases.append(("counter: missing key", {"kills": [kill]}))
    cases.append(("counter: missing key", {"last-id": 1}))
    return cases


def _raw_variants() -> list[tuple[str, bytes]]:
    rng = random.Random(20260302)
    cases = []
    for good in (json.dumps([GOOD_KILL]).encode(), json.dumps(_latch([GOOD_KILL])).encode()):
        cases += [("truncated", good[:cut]) for cut in range(1, len(good), 7)]
    cases += [("binary", bytes(rng.randrange(256) for _ in range(64))) for _ in range(10)]
    cases += [("empty", b""), ("not utf-8", b"\xff\xfe[]"), ("nested", b"[" * 100_000)]
    return cases


def _good() -> list[tuple[str, object]]:
    old = {k: v for k, v in GOOD_KILL.items() if k != "id"}  # written before kills had ids
    return [
        ("good", []),
        ("good", [GOOD_KILL]),
        ("good", [old, {**old, "scope": {"areas": ["de"]}}]),
        ("good", [{**GOOD_KILL, "scope": {}}]),
        ("good", [{k: v for k, v in GOOD_KILL.items() if k != "scope"}]),  # covers everything
        ("good with counter", _latch([])),
        ("good with counter", _latch([], 0)),
        ("good with counter", _latch([GOOD_KILL])),
        ("good with counter", _latch([GOOD_KILL], 7)),  # kills 2 to 7 were lifted
        ("good with counter", _latch([old, {**old, "id": 3}], 3)),  # old gets 4
        ("good with counter", {**_latch([GOOD_KILL]), "written-by": "a later quoter"}),
    ]


def _read(path: Path) -> str:
    """'accepted', 'refused' (a LatchError naming the file) or what else happened."""
    try:
        KillSwitch(path)
    except LatchError as error:
        return "refused" if str(path) in str(error) else f"refused without the file: {error}"
    except Exception as error:
        return f"crashed: {type(error).__name__}: {error}"
    return "accepted"


def test_every_damaged_latch_is_refused_naming_the_file_and_good_ones_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases: list[tuple[str, bytes, str]] = [
        (kind, json.dumps(value).encode(), "refused")
        for kind, value in [*_variants(GOOD_KILL), *_counter_variants(GOOD_KILL)]
    ]
    cases += [(kind, raw, "refused") for kind, raw in _raw_variants()]
    cases += [(kind, json.dumps(value).encode(), "accepted") for kind, value in _good()]
    table: Counter[tuple[str, str]] = Counter()
    wrong: list[tuple[str, bytes, str]] = []
    for n, (kind, raw, expected) in enumerate(cases):
        path = tmp_path / f"latch-{n}.json"
        path.write_bytes(raw)
        got = _read(path)
        table[(kind, got)] += 1
        if got != expected:
            wrong.append((kind, raw[:80], got))
    directory = tmp_path / "a-directory.json"
    directory.mkdir()
    table[("a directory in its place", _read(directory))] += 1
    with capsys.disabled():
        print("\nkill latch | outcome | count")
        for (kind, got), count in sorted(table.items()):
            print(f"{kind} | {got} | {count}")
    assert not wrong, wrong
    assert table[("a directory in its place", "refused")] == 1
