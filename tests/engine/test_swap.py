"""Hot strategy swaps on an engine quoting the sandbox: under load no RFQ is lost and no
decision mixes two parameter sets; a bad swap leaves the old strategy quoting; a changed config
file swaps (and its shadow prices and sends nothing, over the socket)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from quoter.admin import swap_record
from quoter.admin.reload import FileRead, apply_config, watch_config
from quoter.engine.state import StrategySlot
from quoter.risk.config import DEMO_RISK
from quoter.strategies_api import load_strategy, parameters_in_effect
from tests.admin.harness import admin_bot, admin_for, call
from tests.engine.harness import (
    QUICK_REFILL,
    audit_records,
    eventually,
    fast_sandbox,
    running_engine,
)
from tests.venue.contract import counters, new_rfq

A = {"credit_default_eur_mwh": 0.05}
B = {"credit_default_eur_mwh": 0.85}


def in_effect(params: Mapping[str, object]) -> dict[str, object]:
    """What the trail records of curve_spread built from `params`: its defaults filled in."""
    return parameters_in_effect(load_strategy("curve_spread", params), params)


RFQS = 60
ROOMY = DEMO_RISK.model_copy(update={"max_open_quotes": 500, "max_quotes_per_minute": 10_000})


def _rfq(day: int) -> dict[str, object]:
    return {
        "instrument": {
            "load": "base",
            "maturity": {
                "start": f"2026-04-{day:02d}T22:00:00.000Z",
                "end": f"2026-04-{day + 1:02d}T22:00:00.000Z",
            },
            "product": {"type": "day", "label": f"{day + 1:02d}-Apr-26"},
        }
    }


def _decisions(tmp_path: Path) -> list[dict[str, object]]:
    """Every record of a strategy's decision: quotes meant, and declines after pricing."""
    return [
        r
        for r in audit_records(tmp_path)
        if r["kind"] in ("quote-intent", "decline") and "params" in r
    ]


async def test_a_swap_under_load_loses_no_rfq_and_mixes_no_parameters(tmp_path: Path) -> None:
    # A quick refill: sixty quotes and their withdrawals at the stop spend the default bucket,
    # and the stop would then wait seconds for tokens.
    async with (
        fast_sandbox(**QUICK_REFILL) as sandbox,
        running_engine(sandbox, tmp_path, risk=ROOMY, venue={"usage_plan": QUICK_REFILL}) as bot,
        admin_for(bot) as url,
    ):
        await call(url, "POST", "/swap", {"name": "curve_spread", "params": A})

        async def swap_back_and_forth() -> int:
            swaps = 0
            while bot.desk.stats.rfqs_seen < RFQS or swaps < 10:
                params = B if swaps % 2 == 0 else A
                status, _ = await call(
                    url, "POST", "/swap", {"name": "curve_spread", "params": params}
                )
                assert status == 200
                swaps += 1
                await asyncio.sleep(0.005)
            return swaps

        swapping = asyncio.create_task(swap_back_and_forth())
        created = set()
        for day in range(1, RFQS + 1):
            created.add(await new_rfq(sandbox, **_rfq(day % 28 + 1)))
            await asyncio.sleep(0.002)
        swaps = await swapping
        await eventually(
            lambda: created <= {str(r["rfq-id"]) for r in _decisions(tmp_path)},
            "a decision for every RFQ",
        )
    decisions = _decisions(tmp_path)
    assert created <= {r["rfq-id"] for r in decisions}  # none lost
    used = []
    for record in decisions:
        params = record["params"]
        assert params in (in_effect(A), in_effect(B)), record
        decision = record.get("decision")
        if isinstance(decision, dict):  # priced: its credit add-on is its own parameter set's
            assert decision["components"]["credit"] == params["credit_default_eur_mwh"], record
            used.append(params["credit_default_eur_mwh"])
    assert {0.05, 0.85} <= set(used), "both parameter sets quoted"
    assert len(audit_records(tmp_path, "strategy-swap")) == swaps + 1


async def test_a_bad_swap_leaves_the_old_strategy_quoting(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (sandbox, bot, url):
        before = bot.desk.strategy
        answers = [
            await call(url, "POST", "/swap", {"name": "curve_spread", "params": {"nope": 1}}),
            await call(url, "POST", "/swap", {"name": "no_such_strategy"}),
            await call(
                url,
                "POST",
                "/swap",
                {"name": "curve_spread", "params": {"credit_default_eur_mwh": -1}},
            ),
        ]
        assert [status for status, _ in answers] == [400, 400, 400]
        assert "unknown parameter(s) nope" in answers[0][1]["error"]
        assert "unknown strategy 'no_such_strategy'" in answers[1][1]["error"]
        assert bot.desk.strategy is before
        await new_rfq(sandbox, **_rfq(3))
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoting with the old one")
    assert [r["name"] for r in audit_records(tmp_path, "strategy-swap-refused")] == [
        "curve_spread",
        "no_such_strategy",
        "curve_spread",
    ]
    assert audit_records(tmp_path, "strategy-swap") == []
    [intent] = audit_records(tmp_path, "quote-intent")
    assert (intent["strategy"], intent["params"]) == ("curve-spread", in_effect({}))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


async def test_a_changed_config_file_swaps_and_a_bad_one_does_not(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _write(path, '[engine.strategy]\nname = "curve-spread"\n')
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        watcher = asyncio.create_task(watch_config(path, bot.engine, sandbox.clock, 0.01))
        try:
            _write(
                path,
                '[engine.strategy]\nname = "curve_spread"\n'
                "[engine.strategy.params]\ncredit_default_eur_mwh = 0.7\n",
            )
            await eventually(
                lambda: bot.desk.strategy.params == {"credit_default_eur_mwh": 0.7}, "swap"
            )
            good = bot.desk.strategy
            _write(
                path, '[engine.strategy]\nname = "curve_spread"\n[engine.strategy.params]\nx = 1\n'
            )
            await eventually(
                lambda: bool(audit_records(tmp_path, "strategy-swap-refused")), "refusal"
            )
            _write(path, "[engine.strategy\nbroken toml")
            await eventually(
                lambda: len(audit_records(tmp_path, "strategy-swap-refused")) == 2, "2"
            )
            _write(
                path,
                '[engine.strategy]\nname = "curve_spread"\n'
                "[engine.strategy.params]\ncredit_default_eur_mwh = 0.7\n"
                '[engine.shadow]\nname = "curve_spread"\n',
            )
            await eventually(lambda: bot.desk.shadow is not None, "a shadow from the file")
            assert bot.desk.strategy is good  # unchanged section: no swap
            await new_rfq(sandbox, **_rfq(4))
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "quoting")
            await eventually(lambda: bot.desk.stats.shadow_decisions["quote"] == 1, "its shadow")
            assert (await counters(sandbox))["quotes-created"] == 1  # the shadow sent nothing
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    refused = audit_records(tmp_path, "strategy-swap-refused")
    assert "unknown parameter(s) x" in refused[0]["error"]
    assert "not valid TOML" in refused[1]["error"]
    assert len(audit_records(tmp_path, "strategy-swap")) == 1
    [intent] = audit_records(tmp_path, "quote-intent")
    assert intent["params"] == in_effect({"credit_default_eur_mwh": 0.7})


async def test_a_swap_outlives_edits_of_the_config_file_that_name_no_other_strategy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A comment or a limit edited in the file leaves a `quoter swap` quoting (the file swaps
    when what it names changes); the edited section is said not to apply until a restart.
    Each read of the file as the watcher makes it on a change."""
    path = tmp_path / "bot.toml"
    named = '[engine.strategy]\nname = "curve-spread"\n'
    _write(path, named)
    read = FileRead()
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        await apply_config(path, bot.engine, read)  # the first look: what runs
        swapped = StrategySlot("curve_spread", load_strategy("curve_spread", B), dict(B))
        bot.engine.swap(swapped, by="desk", source="admin")
        _write(path, named + "# a comment\n")
        await apply_config(path, bot.engine, read)
        assert bot.desk.strategy is swapped
        _write(path, named + "[engine.quoting]\nvalidity_s = 60.0\n")
        await apply_config(path, bot.engine, read)
        assert bot.desk.strategy is swapped
        edited = '[engine.strategy]\nname = "curve_spread"\n[engine.strategy.params]\n'
        _write(path, edited + "credit_default_eur_mwh = 0.7\n")
        await apply_config(path, bot.engine, read)
        assert bot.desk.strategy.params == {"credit_default_eur_mwh": 0.7}
    said = [r.getMessage() for r in caplog.records if "not applied until" in r.getMessage()]
    assert len(said) == 1  # the last read has the start's [engine] again
    assert "[engine] changed since the start" in said[0]
    assert len(audit_records(tmp_path, "strategy-swap")) == 2  # the desk's, then the file's


async def test_a_swap_is_kept_for_the_next_start_and_a_refused_one_is_not(tmp_path: Path) -> None:
    async with admin_bot(tmp_path) as (_, bot, url):
        record = swap_record.record_path(bot.deps.config)
        refused = await call(url, "POST", "/swap", {"name": "no_such_strategy"})
        assert refused[0] == 400
        assert not record.exists()
        status, _ = await call(url, "POST", "/swap", {"name": "curve_spread", "params": B})
        assert status == 200
    kept = json.loads(record.read_text(encoding="utf-8"))
    assert (kept["name"], kept["params"], kept["source"]) == ("curve_spread", B, "admin")
    assert kept["by"].endswith("(admin)")
