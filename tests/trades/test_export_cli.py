"""`quoter trades export` as the desk types it: its flags, its messages, an empty result, and
the demo's sandbox found with no --config, on the demo's clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from quoter.cli import main
from quoter.commands._demo import announce
from quoter.commands.trades import ListRefused, export_trades
from quoter.sandbox.server import RunningSandbox
from quoter.trades import COLUMNS, TradeStore
from tests.trades.test_trades import AT, win_rfqs
from tests.venue.contract import client


@pytest.fixture
def sandbox_env(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> RunningSandbox:
    creds = sandbox.credentials
    monkeypatch.setenv("QUOTER_CLIENT_ID", creds.client_id.get_secret_value())
    monkeypatch.setenv("QUOTER_CLIENT_SECRET", creds.client_secret.get_secret_value())
    monkeypatch.setenv("QUOTER_API_KEY", creds.api_key.get_secret_value())
    return sandbox


async def test_an_export_that_finds_nothing_writes_the_file_with_its_header(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    store = TradeStore(tmp_path / "trades.csv")
    async with client(sandbox, tmp_path) as venue:
        assert await export_trades(venue, store, sandbox.clock) == (0, 0, 0)
    assert list(pd.read_csv(store.path).columns) == list(COLUMNS)


async def test_a_range_the_venue_refuses_is_named_with_what_was_asked(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    store = TradeStore(tmp_path / "trades.parquet")
    async with client(sandbox, tmp_path) as venue:
        with pytest.raises(ListRefused) as refused:
            await export_trades(venue, store, sandbox.clock, AT, AT - timedelta(hours=1))
    said = str(refused.value)
    assert "refused the list of trades traded 2026-03-02 10:30:00+01:00 .. " in said
    assert "QuoteRejected" not in said
    assert "HTTP 400" in said


def test_until_before_since_is_refused_before_asking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["trades", "export", "--since", "2026-03-02T10:00:00Z", "--until", "2026-03-02T09:00Z"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--until 2026-03-02 10:00:00+01:00 is not after --since 2026-03-02 11:00:00+01:00" in err


def test_to_is_refused_with_the_flags_that_replace_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["trades", "export", "--to", "out.csv"]) == 2
    assert "--out out.csv" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


async def test_no_config_exports_from_the_running_demo_on_its_clock(
    sandbox_env: RunningSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = sandbox_env
    await win_rfqs(sandbox, tmp_path, 1)  # traded in 2026-03, the demo's clock, not the wall's
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var" / "demo").mkdir(parents=True)
    announce(sandbox.base_url, sandbox.clock, sandbox.credentials)
    assert await asyncio.to_thread(main, ["trades", "export"]) == 0
    frame = TradeStore(tmp_path / "var" / "demo" / "trades.parquet").load()
    assert len(frame) == 1
    assert "1 trade from the demo's sandbox" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'trade-id,traded-at,rfq-id\n"t-1,2026-03-02', "is damaged: "),
        (b"name,amount\nalice,3\n", "is not a trade file: it has no trade-id, traded-at, rfq-id"),
        (b"trade-id,traded-at,rfq-id\n,2026-03-02T09:00:00.000Z,r-1\n", "1 row(s) without a"),
    ],
)
async def test_a_damaged_trade_file_is_refused_in_a_line_and_left_as_it_was(
    sandbox_env: RunningSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    said: str,
) -> None:
    await win_rfqs(sandbox_env, tmp_path, 1)  # a trade to merge: the file would be rewritten
    config = tmp_path / "venue.toml"
    config.write_text(
        f'[venue]\nbase_url = "{sandbox_env.base_url}"\n'
        f'[venue.usage_plan]\nledger_path = "{tmp_path / "cli-ledger.json"}"\n'
    )
    out = tmp_path / "trades.csv"
    out.write_bytes(content)
    argv = ["trades", "export", "--config", str(config), "--out", str(out)]
    argv += ["--since", "2026-03-01T00:00:00Z"]
    assert await asyncio.to_thread(main, argv) == 1
    err = capsys.readouterr().err
    assert said in err
    assert "quoter trades export: " in err
    assert str(out) in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert out.read_bytes() == content
