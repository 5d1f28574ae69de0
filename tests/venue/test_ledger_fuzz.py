"""Fuzz-style: many damaged quota ledgers, each must put the guard in fail-safe (the day's quota
spent but for the withdrawal reserve, the file named, no traceback); good ones load. The table
of what was tried is printed with `-s` (`TALLY`)."""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from quoter.basics.usage import Lane
from quoter.clock import ManualClock
from quoter.venue.config import UsagePlanConfig
from quoter.venue.errors import GuardRefused
from quoter.venue.guard import LEDGER_RECHECK_S, UsageGuard
from quoter.venue.ledger import QuotaLedger, key_digest
from quoter.venue.stats import VenueStats
from tests.venue.clocks import START

KEY = "api-key-1"
TODAY = START.date()
SEED = 20260302
TALLY: Counter[tuple[str, str]] = Counter()

Damage = Callable[[Path, random.Random], None]


def _ledger(entry: object, *, version: object = 1, key: str = key_digest(KEY)) -> str:
    return json.dumps({"version": version, "keys": {key: entry}})


def _entry(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "day": TODAY.isoformat(),
        "spent": 120,
        "exhausted": False,
        "bucket-level": 50.0,
        "bucket-at": START.isoformat(),
    }
    return {k: v for k, v in {**base, **fields}.items() if v is not ...}


def _write(text: str | bytes) -> Damage:
    def damage(path: Path, rng: random.Random) -> None:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return damage


def _truncated(path: Path, rng: random.Random) -> None:
    good = _ledger(_entry())
    path.write_text(good[: rng.randrange(1, len(good) - 1)])


def _garbage(path: Path, rng: random.Random) -> None:
    path.write_bytes(bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 400))))


def _not_json(path: Path, rng: random.Random) -> None:
    path.write_text(rng.choice(["{not json", "spent=12", "{'version': 1}", "]]", "nul"]))


def _negative(path: Path, rng: random.Random) -> None:
    path.write_text(_ledger(_entry(spent=-rng.randrange(1, 10**6))))


def _future(path: Path, rng: random.Random) -> None:
    day = TODAY + timedelta(days=rng.randrange(1, 4000))
    path.write_text(_ledger(_entry(day=day.isoformat())))


def _future_other_key(path: Path, rng: random.Random) -> None:
    day = (TODAY + timedelta(days=rng.randrange(1, 40))).isoformat()
    path.write_text(_ledger(_entry(day=day), key="someone-else"))


WRONG_TYPES: list[dict[str, object]] = [
    {"spent": "120"},
    {"spent": 12.5},
    {"spent": True},
    {"spent": None},
    {"spent": [1]},
    {"day": 20260302},
    {"day": "yesterday"},
    {"day": None},
    {"exhausted": "no"},
    {"exhausted": 0},
    {"bucket-level": "full"},
    {"bucket-level": True},
    {"bucket-level": -5.0},
    {"bucket-at": 12},
    {"bucket-at": "2026-03-02T09:00:00"},  # no time zone
    {"bucket-at": "soon"},
]


def _wrong_types(path: Path, rng: random.Random) -> None:
    path.write_text(_ledger(_entry(**rng.choice(WRONG_TYPES))))


def _huge(path: Path, rng: random.Random) -> None:
    choice = rng.randrange(4)
    if choice == 0:
        path.write_text(_ledger(_entry(spent=10 ** rng.randrange(8, 40))))
    elif choice == 1:
        path.write_text(
            _ledger(_entry(spent="9" * 5000)).replace('"' + "9" * 5000 + '"', "9" * 5000)
        )
    elif choice == 2:
        path.write_text(_ledger(_entry()).replace("50.0", rng.choice(["1e400", "Infinity", "NaN"])))
    else:
        path.write_text(_ledger(_entry(**{"bucket-level": 1e300})))


def _missing_keys(path: Path, rng: random.Random) -> None:
    variants = [
        _ledger(_entry(spent=...)),
        _ledger(_entry(day=...)),
        json.dumps({"version": 1}),
        json.dumps({"keys": {}}),
        _ledger(_entry(), version=2),
        json.dumps({"version": 1, "keys": []}),
        json.dumps({"version": 1, "keys": {key_digest(KEY): "120"}}),
        "[]",
        "{}",
        "null",
    ]
    path.write_text(rng.choice(variants))


def _deep(path: Path, rng: random.Random) -> None:
    path.write_text("[" * 100_000)


def _directory(path: Path, rng: random.Random) -> None:
    path.mkdir()


DAMAGE: dict[str, tuple[Damage, int]] = {
    "not JSON": (_not_json, 10),
    "truncated": (_truncated, 40),
    "negative": (_negative, 10),
    "future-dated": (_future, 15),
    "future-dated, other key": (_future_other_key, 5),
    "wrong types": (_wrong_types, 40),
    "huge numbers": (_huge, 20),
    "missing keys": (_missing_keys, 30),
    "binary garbage": (_garbage, 20),
    "deeply nested": (_deep, 1),
    "empty": (_write(""), 1),
    "a directory in its place": (_directory, 1),
}


def _cases() -> Iterator[tuple[str, int]]:
    for kind, (_, tries) in DAMAGE.items():
        for i in range(tries):
            yield kind, i


def make_guard(path: Path, clock: ManualClock) -> UsageGuard:
    config = UsagePlanConfig(ledger_path=path)
    return UsageGuard(config, clock, QuotaLedger(path, KEY), VenueStats())


async def _only_withdrawals_go(guard: UsageGuard) -> None:
    for lane in (Lane.POLL, Lane.SUBMIT):
        with pytest.raises(GuardRefused, match="quota ledger cannot be trusted"):
            await asyncio.wait_for(guard.acquire(lane), timeout=1)
    await asyncio.wait_for(guard.acquire(Lane.WITHDRAW), timeout=1)


@pytest.mark.parametrize(("kind", "i"), list(_cases()))
async def test_a_damaged_ledger_puts_the_guard_in_failsafe(
    tmp_path: Path, kind: str, i: int
) -> None:
    path = tmp_path / "quota-ledger.json"
    damage, _ = DAMAGE[kind]
    damage(path, random.Random(f"{SEED}-{kind}-{i}"))
    TALLY[(kind, "tried")] += 1
    try:
        guard = make_guard(path, ManualClock(START))
        state = guard.state()
        assert state.ledger_failsafe is not None
        assert str(path) in state.ledger_failsafe
        assert state.left_today == {Lane.WITHDRAW: 250, Lane.SUBMIT: 0, Lane.POLL: 0}
        await _only_withdrawals_go(guard)
    except AssertionError:
        TALLY[(kind, "accepted")] += 1
        raise
    except Exception:
        TALLY[(kind, "crashed")] += 1
        raise
    TALLY[(kind, "refused")] += 1


def _good(path: Path, rng: random.Random) -> int:
    spent = rng.randrange(0, 4000)
    fields: dict[str, object] = {"spent": spent, "exhausted": False}
    choice = rng.randrange(4)
    if choice == 0:
        fields |= {"bucket-level": None, "bucket-at": None}
    elif choice == 1:
        fields |= {"bucket-level": ..., "bucket-at": ..., "exhausted": ...}
    elif choice == 2:  # yesterday's count: today starts at 0
        fields["day"] = (TODAY - timedelta(days=rng.randrange(1, 30))).isoformat()
        spent = 0
    path.write_text(_ledger(_entry(**fields)))
    return spent


@pytest.mark.parametrize("i", range(30))
async def test_a_good_ledger_loads(tmp_path: Path, i: int) -> None:
    path = tmp_path / "quota-ledger.json"
    spent = _good(path, random.Random(f"{SEED}-good-{i}"))
    TALLY[("good", "tried")] += 1
    guard = make_guard(path, ManualClock(START))
    state = guard.state()
    assert state.ledger_failsafe is None
    assert state.spent_today == spent
    await asyncio.wait_for(guard.acquire(Lane.POLL), timeout=1)
    assert guard.state().spent_today == spent + 1
    TALLY[("good", "accepted")] += 1


async def test_an_unwritable_ledger_goes_failsafe_on_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "quota-ledger.json"
    path.write_text(_ledger(_entry(spent=10)))
    (tmp_path / "quota-ledger.json.tmp").mkdir()  # the atomic write cannot create its temp file
    stats = VenueStats()
    guard = UsageGuard(
        UsagePlanConfig(ledger_path=path), ManualClock(START), QuotaLedger(path, KEY), stats
    )
    TALLY[("unwritable", "tried")] += 1
    await asyncio.wait_for(guard.acquire(Lane.POLL), timeout=1)  # sent: then the write fails
    state = guard.state()
    assert state.ledger_failsafe is not None
    assert "cannot write" in state.ledger_failsafe
    assert stats.ledger_write_errors == 1
    await _only_withdrawals_go(guard)
    assert stats.ledger_write_errors == 1  # not retried on every request
    TALLY[("unwritable", "refused")] += 1


async def test_failsafe_lasts_until_the_file_is_fixed_then_counts_what_went_meanwhile(
    tmp_path: Path,
) -> None:
    path = tmp_path / "quota-ledger.json"
    path.write_text("{truncated")
    clock = ManualClock(START)
    guard = make_guard(path, clock)
    await _only_withdrawals_go(guard)
    clock.advance(LEDGER_RECHECK_S)
    assert guard.state().ledger_failsafe is not None  # still damaged: still fail-safe
    path.write_text(_ledger(_entry(spent=300)))  # a person wrote the right count
    clock.advance(LEDGER_RECHECK_S)
    state = guard.state()
    assert state.ledger_failsafe is None
    assert state.spent_today == 301  # the file's count and the withdrawal sent meanwhile
    assert json.loads(path.read_text())["keys"][key_digest(KEY)]["spent"] == 301


async def test_removing_the_file_or_a_new_utc_day_ends_failsafe(tmp_path: Path) -> None:
    path = tmp_path / "quota-ledger.json"
    path.write_bytes(b"\x00\xff\x00")
    clock = ManualClock(START)
    guard = make_guard(path, clock)
    assert guard.state().ledger_failsafe is not None
    midnight = datetime.combine(TODAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    clock.advance((midnight - START).total_seconds())
    state = guard.state()
    assert state.ledger_failsafe is None
    assert state.day == date(2026, 3, 3)
    assert (tmp_path / "quota-ledger.json.damaged").read_bytes() == b"\x00\xff\x00"
    path.write_text("[]")  # damaged again, then removed by a person
    await asyncio.wait_for(guard.acquire(Lane.POLL), timeout=1)
    assert guard.state().ledger_failsafe is not None
    os.remove(path)
    clock.advance(LEDGER_RECHECK_S)
    assert guard.state().ledger_failsafe is None


def test_print_the_table() -> None:
    """Run last (file order): the table the report quotes, with `-s`."""
    kinds = [*DAMAGE, "unwritable", "good"]
    print("\ninput kind | tried | refused cleanly | accepted rightly | crashed or traceback")
    for kind in kinds:
        t = TALLY
        accepted = t[(kind, "accepted")] if kind == "good" else 0
        wrongly = t[(kind, "accepted")] if kind != "good" else 0
        print(
            f"{kind} | {t[(kind, 'tried')]} | {t[(kind, 'refused')]} | {accepted} | "
            f"{t[(kind, 'crashed')] + wrongly}"
        )
