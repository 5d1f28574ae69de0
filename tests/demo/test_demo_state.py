"""The demo keeps its state apart from a desk's, and each of its runs can be told apart: its
own folder, a run id, clock and seed in the trail's start record, and a fresh market seed."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from quoter.app import demo_start
from quoter.audit import JsonlAudit, events
from quoter.audit.story import load_records, render_json, run_starts, story
from quoter.audit.verify import verify
from quoter.commands.run import _run, demo_sandbox
from quoter.config import DEMO_STATE, demo_config, load_config
from quoter.engine.config import EngineConfig
from quoter.sandbox.config import MarketConfig
from quoter.sandbox.market import Market
from quoter.sandbox.reference import default_reference_price
from quoter.sandbox.store import Store
from tests.audit.records import rfq_seen

MONDAY_9 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, market open


def test_no_config_is_the_demo_whose_every_state_file_is_under_var_demo() -> None:
    config = load_config(None)
    engine = config.engine
    paths = [
        engine.audit_dir,
        engine.audit_key_path,
        engine.audit_anchor_path,
        engine.kill.latch_path,
        engine.deadman.heartbeat_path,
        engine.trades_file,
        config.venue.usage_plan.ledger_path,
        config.admin.token_file,
    ]
    assert all(p is not None and p.is_relative_to(DEMO_STATE) for p in paths), paths
    assert config == demo_config()


def test_each_demo_run_draws_its_own_market_seed_unless_one_is_given() -> None:
    seeds = {demo_sandbox(demo_config(), None, None).sandbox.seed for _ in range(5)}
    assert len(seeds) > 1
    assert demo_sandbox(demo_config(), None, 42).sandbox.seed == 42


def test_the_demo_market_starts_with_rfqs_open() -> None:
    store = Store(max_rfqs=100, max_quotes=100, max_trades=100)
    config = MarketConfig(open_at_start=3)
    Market(config, 7, store, default_reference_price, MONDAY_9)
    assert len(store.open_rfqs()) == 3


def test_a_demo_run_starts_its_clock_after_the_last_run_s_records() -> None:
    engine = EngineConfig()
    last_run = MONDAY_9 + timedelta(hours=2)  # the last run's clock was ahead of the wall
    start = demo_start(engine, MONDAY_9, last_run)
    assert start > last_run
    assert demo_start(engine, MONDAY_9) == MONDAY_9


def _two_runs_of_one_rfq(directory: Path) -> None:
    audit = JsonlAudit(directory, key=b"k" * 32)
    for run, at in (("run-a", MONDAY_9 + timedelta(hours=1)), ("run-b", MONDAY_9)):
        started = events.Started(
            run_id=run,
            clock="demo",
            seed=7,
            by="demo",
            limits={},
            engine={},
            strategy="curve-spread",
            params={},
            kill_switch="clear",
        )
        audit.write(started, at)
        audit.record("rfq", at, rfq_seen("rfq-1"))
        declined = events.QuoteDeclined(
            rfq_id="rfq-1", reason="no-curve", detail="no curve for DE", strategy="curve-spread"
        )
        audit.write(declined, at)
    audit.close()


def test_explain_tells_an_rfq_seen_by_two_runs_run_by_run(tmp_path: Path) -> None:
    _two_runs_of_one_rfq(tmp_path / "audit")
    records = list(load_records(tmp_path / "audit"))
    events = story(records, "rfq-1")
    told = orjson.loads(render_json("rfq-1", events, run_starts(records)))
    assert [r["run-id"] for r in told["runs"]] == ["run-a", "run-b"]
    assert [r["seed"] for r in told["runs"]] == [7, 7]
    assert [e["run-id"] for e in told["events"]] == ["run-a", "run-a", "run-b", "run-b"]


def test_verify_gives_the_earliest_and_latest_times_whatever_their_order(
    tmp_path: Path,
) -> None:
    _two_runs_of_one_rfq(tmp_path / "audit")  # the second run's clock is behind the first's
    result = verify(tmp_path / "audit", key=b"k" * 32)
    assert result.intact
    assert result.first_at == MONDAY_9.isoformat()
    assert result.last_at == (MONDAY_9 + timedelta(hours=1)).isoformat()
    assert result.runs == 2


async def test_the_demo_quotes_from_its_start_into_var_demo_and_says_which_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUOTER_AUDIT_KEY", raising=False)
    monkeypatch.delenv("QUOTER_ADMIN_TOKEN", raising=False)
    config = demo_sandbox(demo_config(), None, None)
    config = config.model_copy(
        update={
            "metrics": config.metrics.model_copy(update={"enabled": False}),
            "admin": config.admin.model_copy(update={"port": 0}),
            "sandbox": config.sandbox.model_copy(update={"start": MONDAY_9}),
        }
    )
    trail = tmp_path / "var" / "demo" / "audit"
    run = asyncio.create_task(_run(config, None, 0.05))
    intents: list[dict[str, object]] = []
    for _ in range(400):  # the quotes are sent within the first polls; this bounds a hang
        await asyncio.sleep(0.05)
        records = list(load_records(trail)) if trail.exists() else []
        intents = [r for r in records if r["kind"] == "quote-intent"]
        if intents:
            break
    os.kill(os.getpid(), signal.SIGINT)
    assert await asyncio.wait_for(run, 30) == 0
    records = list(load_records(trail))
    (start,) = [r for r in records if r["kind"] == "start"]
    assert start["clock"] == "demo"
    assert start["seed"] == config.sandbox.seed
    assert intents, "no quote sent"
    assert datetime.fromisoformat(str(intents[0]["at"])) - MONDAY_9 < timedelta(seconds=10)
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["demo"]
    assert not (tmp_path / "var" / "demo" / "sandbox.json").exists()  # said only while it runs
