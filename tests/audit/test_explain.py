"""`quoter audit explain` on the trail of a real engine run against the sandbox: a quote that
wins and fills, and a decline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from quoter.audit import verify
from quoter.audit.chain import canonical, read_lines
from quoter.audit.events import CHAIN_FIELDS, Unknown, decode, encode
from quoter.audit.trail import JsonlAudit
from quoter.cli import main
from tests.audit.records import fill, rfq_seen
from tests.audit.trails import DAY1
from tests.engine.harness import eventually, fast_sandbox, month_ahead, running_engine
from tests.venue.contract import advance, new_rfq


async def test_explain_tells_a_quote_and_a_decline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with fast_sandbox() as sandbox, running_engine(sandbox, tmp_path) as bot:
        stats = bot.desk.stats
        won = await new_rfq(sandbox, **month_ahead(), **{"competitor-price": 3000.0})
        deadline = sandbox.clock.now() + timedelta(seconds=1)
        late = await new_rfq(sandbox, **month_ahead(), **{"quote-deadline": deadline.isoformat()})
        await eventually(lambda: stats.quotes_sent == 1 and stats.declined["too-late"] == 1, "both")
        await advance(sandbox, 301)
        await eventually(lambda: stats.won == 1, "the win")
    trail = tmp_path / "audit"
    assert verify(trail).intact, verify(trail).summary()
    for file in sorted(trail.glob("audit-*.jsonl")):  # what the engine writes, the codec reads
        content = file.read_bytes()
        for line, raw in zip(read_lines(content), content.splitlines(), strict=True):
            assert line.record is not None
            event = decode(line.record)
            assert not isinstance(event, Unknown), line.record["kind"]
            chain = {k: line.record[k] for k in CHAIN_FIELDS}
            assert canonical({**encode(event), **chain}) == raw

    assert main(["audit", "explain", won, "--dir", str(trail)]) == 0
    text = capsys.readouterr().out
    for words in (
        "received RFQ",
        "priced by strategy curve-spread",
        # What priced it, though the configuration named no parameter: the defaults in effect.
        "credit_default_eur_mwh=0.05",
        "tenor_half_spread_eur_mwh=[[7, 0.15], [31, 0.2], [92, 0.3], [366, 0.4], [1096, 0.6]]",
        "components:",
        "curve ",
        "risk check collar: passed",
        "quoting: sending",
        "venue answered",
        ": accepted",
        "our quote won",
        "filled: we",
    ):
        assert words in text, f"{words!r} not in:\n{text}"

    assert main(["audit", "explain", late, "--dir", str(trail), "--json"]) == 0
    story = orjson.loads(capsys.readouterr().out)
    kinds = [e["kind"] for e in story["events"]]
    assert kinds[0] == "rfq"
    assert "decline" in kinds
    decline = story["events"][kinds.index("decline")]
    assert decline["record"]["reason"] == "too-late"
    assert decline["says"].startswith("strategy curve-spread in charge\ndeclined: too-late")

    assert main(["audit", "explain", "no-such-rfq", "--dir", str(trail)]) == 1
    assert "not in the trail" in capsys.readouterr().out


def test_explain_refuses_a_malformed_record_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = JsonlAudit(tmp_path)
    audit.record("rfq", DAY1, rfq_seen("r-1"))
    audit.record("fill", DAY1, {**fill("r-1", "sell", 50.0), "price": "fifty"})
    assert main(["audit", "explain", "r-1", "--dir", str(tmp_path)]) == 2
    said = capsys.readouterr().err
    assert "fill record (seq 2): price: expected a number, found 'fifty'" in said, said
