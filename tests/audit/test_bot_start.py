"""The bot's start through the composition root: its key made owner-only beside the trail, a
cut trail taken up as a new chain that records the break (status, `quoter_audit_chain_ok` 0),
and a trail that cannot be written refusing the start in one line."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from quoter.app import Bot, open_bot
from quoter.audit import verify
from quoter.audit.events import Unknown
from quoter.audit.key import KEY_VARIABLE
from quoter.audit.story import load_records
from quoter.audit.trail import BREAK_KIND
from quoter.cli import main
from quoter.engine.config import EngineConfig
from quoter.engine.curve_watch import CurveStore
from quoter.engine.planner import PollPlan
from quoter.engine.reconcile import StartRefused
from quoter.engine.status import render_status, status_of
from quoter.risk.config import DEMO_RISK
from quoter.sandbox.server import RunningSandbox
from tests.audit.trails import lines_of, write_lines
from tests.engine.harness import CURVES, engine_config, fast_sandbox
from tests.venue.contract import client_config


async def _with_bot(sandbox: RunningSandbox, tmp_path: Path, config: EngineConfig) -> Bot:
    """Open the bot, write three durable records as a run would, and close it."""
    venue = client_config(sandbox, tmp_path / "ledger.json")
    curves = CurveStore(None, initial=CURVES)
    async with open_bot(
        config, venue, DEMO_RISK, sandbox.credentials, sandbox.clock, curves
    ) as bot:
        for n in range(3):
            bot.engine.deps.audit.write(Unknown("rfq", {"n": n}), sandbox.clock.now(), durable=True)
        return bot


def _chain_ok(bot: Bot) -> float | None:
    return bot.registry.get_sample_value("quoter_audit_chain_ok")


async def test_a_start_on_a_cut_trail_records_the_break_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    config = engine_config(tmp_path)
    async with fast_sandbox() as sandbox:
        first = await _with_bot(sandbox, tmp_path, config)
        assert _chain_ok(first) == 1.0
        key_file, anchor = tmp_path / "audit-key", tmp_path / "audit-anchor.json"
        for path in (key_file, anchor, *config.audit_dir.iterdir()):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        (day,) = config.audit_dir.glob("audit-*.jsonl")
        write_lines(day, lines_of(day)[:-1])  # seq 3 cut
        second = await _with_bot(sandbox, tmp_path, config)
    assert _chain_ok(second) == 0.0
    status = status_of(second.engine.deps, second.engine.desk, PollPlan(1.0, "test"))
    assert "truncated" in str(status["audit-chain"])
    assert "AUDIT   audit chain broken at" in render_status(status)
    records = list(load_records(config.audit_dir))
    assert [(r["seq"], r["kind"]) for r in records[2:4]] == [(4, BREAK_KIND), (5, "rfq")]
    key = key_file.read_bytes().strip()
    assert key not in day.read_bytes()
    result = verify(config.audit_dir, key=key, anchor_path=anchor)
    assert [b.seq for b in result.breaks] == [4]
    assert result.current is None


async def test_a_trail_that_cannot_be_written_refuses_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "a-key-from-the-environment-0123")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    config = engine_config(tmp_path).model_copy(update={"audit_dir": blocker / "audit"})
    async with fast_sandbox() as sandbox:
        venue = client_config(sandbox, tmp_path / "ledger.json")
        curves = CurveStore(None, initial=CURVES)
        async with open_bot(
            config, venue, DEMO_RISK, sandbox.credentials, sandbox.clock, curves
        ) as bot:
            with pytest.raises(ExceptionGroup) as raised:
                await bot.engine.run(asyncio.Event())
    refused, rest = raised.value.split(StartRefused)
    assert rest is None
    assert refused is not None
    assert "the audit trail cannot be written" in str(refused.exceptions[0])
    assert _chain_ok(bot) == 0.0


def test_quoter_run_with_a_key_open_to_others_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    key_file = tmp_path / "var" / "demo" / "audit-key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("a-key-someone-else-can-read-0123\n")
    key_file.chmod(0o644)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "quoter: not started: var/demo/audit-key: the audit key file is open to others" in err
    assert "Traceback" not in err
    assert "a-key-someone-else-can-read" not in err
