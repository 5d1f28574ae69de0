"""A position beyond its limit (a limit lowered under a book) is reduce-only, end to end: the
bot quotes what reduces it, declines what grows it, and a reducing fill does not kill."""

from __future__ import annotations

from pathlib import Path

from quoter.risk.config import DEMO_RISK
from tests.engine.harness import (
    audit_records,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.venue.contract import advance, new_rfq

DEADLINE_S = 300
ONE_MW = {"quantity": {"amount": {"value": 1.0, "unit": "MW"}}}


def _position_check(record: dict[str, object]) -> dict[str, object]:
    checks = record["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["code"] == "position-limit")


async def test_beyond_a_lowered_limit_the_bot_only_reduces(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    async with fast_sandbox() as sandbox:
        async with running_engine(sandbox, first) as bot:
            # The requester buys, a competitor far above: we sell and win, short the month.
            await new_rfq(sandbox, **month_ahead(), **{"competitor-price": 3000.0})
            await eventually(lambda: bot.ctx.stats.quotes_sent == 1, "the quote")
            await advance(sandbox, DEADLINE_S + 1)
            await eventually(lambda: bot.ctx.stats.won == 1, "the win")
            (short_mwh,) = bot.ctx.book.positions_mwh.values()
        assert short_mwh < 0
        lowered = DEMO_RISK.model_copy(update={"max_position_mwh": -short_mwh / 2})
        async with running_engine(sandbox, second, risk=lowered, run_id="second") as bot:
            await eventually(lambda: bool(bot.ctx.book.positions_mwh), "positions rebuilt")
            # The requester sells 1 MW to us, a competitor far below: buying reduces the short.
            reducing = await new_rfq(
                sandbox, **month_ahead(), **ONE_MW, action="sell", **{"competitor-price": -400.0}
            )
            await eventually(lambda: bot.ctx.stats.quotes_sent == 1, "the reducing quote")
            growing = await new_rfq(sandbox, **month_ahead(), **ONE_MW)  # we would sell more
            await eventually(lambda: bot.ctx.stats.declined["position-limit"] == 1, "refused")
            await advance(sandbox, DEADLINE_S + 1)
            await eventually(lambda: bot.ctx.stats.won == 1, "the reducing fill")
            (after_mwh,) = bot.ctx.book.positions_mwh.values()
            assert short_mwh < after_mwh < short_mwh / 2  # reduced, still beyond the limit
            assert not bot.ctx.killswitch.kills  # a reducing fill is no breach
        intent = next(r for r in audit_records(second, "quote-intent") if r["rfq-id"] == reducing)
        passed = _position_check(intent)
        assert passed["passed"] is True
        assert str(passed["detail"]).startswith("reduce-only: ")
        assert "reduces it" in str(passed["detail"])
        decline = next(r for r in audit_records(second, "decline") if r["rfq-id"] == growing)
        refused = _position_check(decline)
        assert refused["passed"] is False
        assert "would grow it" in str(refused["detail"])
