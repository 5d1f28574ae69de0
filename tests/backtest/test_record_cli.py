"""Recording tapes: `quoter backtest record` from a venue over HTTP (the sandbox as a contract
venue), and `quoter sandbox --record-tape` run as a process and stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest

from quoter.backtest.tape import read_tape
from quoter.cli import main
from quoter.domain import Action, Price, QuoteRequest
from quoter.sandbox.server import RunningSandbox
from tests.venue.contract import advance, client, new_rfq

WINDOW = ["--from", "2026-03-02T08:00:00Z", "--to", "2026-03-02T09:30:00Z"]
CUSTOM = {"instrument": {"load": "custom", "product": {"type": "month"}}}


def venue_config(sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "venue.toml"
    config.write_text(
        f'[venue]\nbase_url = "{sandbox.base_url}"\n'
        f'[venue.usage_plan]\nledger_path = "{tmp_path / "ledger.json"}"\n'
    )
    creds = sandbox.credentials
    monkeypatch.setenv("QUOTER_CLIENT_ID", creds.client_id.get_secret_value())
    monkeypatch.setenv("QUOTER_CLIENT_SECRET", creds.client_secret.get_secret_value())
    monkeypatch.setenv("QUOTER_API_KEY", creds.api_key.get_secret_value())
    return config


async def trade_one_of_three(sandbox: RunningSandbox, tmp_path: Path) -> tuple[str, str, str]:
    """Three RFQs at 09:00 (one we win at 87.35, one custom), all ended; one more at 10:00."""
    won = await new_rfq(sandbox, **{"competitor-price": 3000.0, "action": "buy"})
    lost = await new_rfq(sandbox, **{"competitor-price": 1.0, "action": "sell"})
    custom = await new_rfq(sandbox, **CUSTOM)
    async with client(sandbox, tmp_path) as venue:
        rfq = await venue.get_rfq(won)
        await venue.submit_quote(QuoteRequest(won, "cq-1", rfq.quote_deadline, price=Price(87.35)))
    await advance(sandbox, 3600)
    await new_rfq(sandbox)  # created after the window
    return won, lost, custom


async def test_record_exports_the_window_with_our_trades_as_drivers(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    won, lost, custom = await trade_one_of_three(sandbox, tmp_path)
    config = venue_config(sandbox, tmp_path, monkeypatch)
    out = tmp_path / "tapes" / "venue.parquet"
    argv = ["backtest", "record", "--config", str(config), *WINDOW, "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    tape = read_tape(out)
    assert not tape.problems
    rows = rows_by_id(out)
    assert sorted(rows) == sorted([won, lost, custom])
    assert rows[won]["reference_price"] == 87.35  # our trade's price
    assert rows[won]["requester_side"] == Action.BUY.value
    assert math.isnan(rows[lost]["reference_price"])
    assert all(math.isnan(row["competitor_price"]) for row in rows.values())  # not in the contract
    assert (out.parent / rows[custom]["load_shape"]).is_file()
    replayed = tmp_path / "replay"
    assert (
        await asyncio.to_thread(main, ["backtest", "replay", str(out), "--out", str(replayed)]) == 0
    )
    assert pd.read_parquet(replayed / "summary.parquet").rfqs.iloc[0] == 3


async def test_record_stops_before_its_request_budget(
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await trade_one_of_three(sandbox, tmp_path)
    config = venue_config(sandbox, tmp_path, monkeypatch)
    out = tmp_path / "venue.csv"
    argv = ["backtest", "record", "--config", str(config), *WINDOW, "--out", str(out)]
    assert await asyncio.to_thread(main, [*argv, "--max-requests", "1"]) == 2
    assert "needs more than 1 requests" in capsys.readouterr().err
    assert not out.exists()
    assert await asyncio.to_thread(main, [*argv, "--skip-custom", "--max-requests", "2"]) == 0
    assert len(read_tape(out)) == 2  # one page of RFQs, one of trades; the custom one left out


def test_record_needs_a_window_and_a_tape_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["backtest", "record", "--from", "2026-03-02T08:00:00Z"])
    assert exit_.value.code == 2
    assert "the following arguments are required: --out" in capsys.readouterr().err
    argv = ["backtest", "record", "--from", "2026-03-02T08:00:00Z", "--out", "tape.txt"]
    assert main(argv) == 2
    assert "--out tape.txt: give a tape file, .parquet or .csv" in capsys.readouterr().err


async def test_record_refuses_an_empty_window_before_any_request(
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = venue_config(sandbox, tmp_path, monkeypatch)
    out = tmp_path / "venue.parquet"
    backwards = ["--from", "2026-03-02T09:30:00Z", "--to", "2026-03-02T08:00:00Z"]
    argv = ["backtest", "record", "--config", str(config), *backwards, "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--to must be after --from" in err
    assert not out.exists()
    assert not (tmp_path / "ledger.json").exists()  # no request spent


async def test_record_warns_of_a_window_that_has_not_ended(
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = venue_config(sandbox, tmp_path, monkeypatch)
    out = tmp_path / "venue.parquet"
    future = ["--from", "2026-03-02T08:00:00Z", "--to", "2999-01-01T00:00:00Z"]
    argv = ["backtest", "record", "--config", str(config), *future, "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    assert "record a window that has ended" in capsys.readouterr().err
    assert out.exists()  # a warning only


async def test_record_of_an_ended_window_does_not_warn(
    sandbox: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = venue_config(sandbox, tmp_path, monkeypatch)
    out = tmp_path / "venue.parquet"
    argv = ["backtest", "record", "--config", str(config), *WINDOW, "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    assert "warning" not in capsys.readouterr().err


SANDBOX_TOML = """\
[sandbox]
start = "2026-03-02T09:00:00Z"
speed = 60
max_rfqs = 5
[sandbox.market]
arrivals_per_min = 60
deadline_min_s = 5
deadline_max_s = 10
custom_share = 0.5
"""


async def test_the_sandbox_records_every_rfq_it_served(tmp_path: Path) -> None:
    (tmp_path / "sandbox.toml").write_text(SANDBOX_TOML)
    tape = tmp_path / "recorded.parquet"
    argv = ["-m", "quoter", "sandbox", "--config", "sandbox.toml", "--port", "0"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        "--record-tape",
        str(tape),
        cwd=tmp_path,  # generated credentials go to ./var
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        base_url = first.split("serving ")[1].split()[0]
        fixed = await create_rfq(base_url, {"competitor-price": 123.0, "action": "buy"})
        await asyncio.sleep(0.5)  # 30 sandbox seconds: RFQs arrive, end and are evicted
        stored = await rfqs_stored(base_url)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, out.decode()
    recorded = read_tape(tape)
    assert not recorded.problems
    rows = rows_by_id(tape)
    assert len(rows) > stored  # the store's evicted RFQs were recorded too
    assert rows[fixed]["competitor_price"] == 123.0
    shapes = [tape.parent / row["load_shape"] for row in rows.values() if row["load_shape"]]
    assert shapes  # custom RFQs, with their load shapes beside the tape
    assert all(path.is_file() for path in shapes)
    assert f"{len(rows)} RFQs recorded to {tape}" in out.decode()


async def create_rfq(base_url: str, body: dict[str, object]) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/_sandbox/rfqs", json=body) as answer,
    ):
        assert answer.status == 201, await answer.text()
        rfq_id: str = (await answer.json())["id"]
        return rfq_id


async def rfqs_stored(base_url: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/_sandbox/counters") as answer,
    ):
        stored: int = (await answer.json())["rfqs-stored"]
        return stored


def rows_by_id(tape: Path) -> dict[str, dict[Hashable, Any]]:
    return {str(row["id"]): row for row in pd.read_parquet(tape).to_dict("records")}
