"""Every state file the bot keeps is created owner-only (0600), whatever the umask, even over a
temp file an older run left readable: the quota ledger, the kill latch, the trades, the
heartbeat, the audit anchor. (The audit trail's own modes are tested with it, in tests/audit.)"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from quoter.audit.anchor import Anchor, write_anchor
from quoter.clock import ManualClock
from quoter.engine.heartbeat import Heartbeat
from quoter.engine.killswitch import Kill, KillSwitch
from quoter.trades import COLUMNS, TradeStore
from quoter.venue.ledger import DayEntry, QuotaLedger

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    old = os.umask(0o002)  # a umask that would leave files group-writable, others-readable
    try:
        yield
    finally:
        os.umask(old)


def _ledger(path: Path) -> None:
    QuotaLedger(path, "key").record(DayEntry(date(2026, 3, 2), 0), 1, NOW)


def _latch(path: Path) -> None:
    KillSwitch(path).kill(Kill(reason="test", by="test", at=NOW))


def _trades(path: Path) -> None:
    TradeStore(path)._write(pd.DataFrame(columns=list(COLUMNS)))


def _anchor(path: Path) -> None:
    write_anchor(path, Anchor(seq=3, mac="ab" * 32, keyed_from=1), b"k" * 32)


def _heartbeat(path: Path) -> None:
    Heartbeat(path, 0.5, ManualClock(NOW), pid=4242).beat()


WRITERS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "quota ledger": (_ledger, "quota-ledger.json", "quota-ledger.json.tmp"),
    "kill latch": (_latch, "kill-latch.json", "kill-latch.json.tmp"),
    "trades csv": (_trades, "trades.csv", "trades.csv.tmp"),
    "trades parquet": (_trades, "trades.parquet", "trades.parquet.tmp"),
    "audit anchor": (_anchor, "audit-anchor.json", "audit-anchor.json.tmp"),
    "heartbeat": (_heartbeat, "heartbeat.json", "heartbeat.json.4242.tmp"),
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_state_file_is_created_owner_only(tmp_path: Path, name: str) -> None:
    write, file, tmp = WRITERS[name]
    (tmp_path / tmp).write_text("left by an older run")
    (tmp_path / tmp).chmod(0o644)
    write(tmp_path / file)
    assert _mode(tmp_path / file) == 0o600
    for other in tmp_path.iterdir():  # its lock file too
        assert _mode(other) & 0o077 == 0, other.name


DURABLE = ["quota ledger", "kill latch", "trades csv", "trades parquet", "audit anchor"]


@pytest.mark.parametrize("name", DURABLE)
def test_a_durable_state_file_survives_a_power_cut(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename is durable only once its folder is synced: before that a power cut can leave
    the old file, or none. The kill latch, the quota ledger and the trades must be on disk,
    file and folder, when their write returns (the heartbeat, rewritten every beat, need not)."""
    write, file, _ = WRITERS[name]
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
        after_rename = (tmp_path / file).exists()
        synced.append(f"{kind} {'after' if after_rename else 'before'} the rename")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    write(tmp_path / file)
    assert "file before the rename" in synced
    assert "folder after the rename" in synced
