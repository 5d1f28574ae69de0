"""A position beyond its limit (a limit lowered under a book) is reduce-only: the bot quotes what
reduces it, declines what grows it, and a reducing fill does not kill. On a SimVenue and
virtual time; over a real socket, test_auto_kills.py::
test_a_book_loaded_beyond_a_lowered_limit_is_reported_and_not_added_to holds the same limit."""

from __future__ import annotations

from pathlib import Path

from quoter.domain import Action
from quoter.risk.config import DEMO_RISK
from tests.engine.harness import audit_records, eventually
from tests.engine.sim import arriving, sim_engine, sim_venue, virtual


def _position_check(record: dict[str, object]) -> dict[str, object]:
    checks = record["checks"]
    assert isinstance(checks, list)
    return next(c for c in checks if c["code"] == "position-limit")


@virtual
async def test_beyond_a_lowered_limit_the_bot_only_reduces(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    # The requester buys, a competitor far above: we sell and win, short the month. After it
    # has settled, the requester sells 1 MW to us against a competitor far below (buying
    # reduces the short), and another buys 1 MW (we would sell more).
    winning = arriving(0)
    reducing = arriving(1, at_s=400, action=Action.SELL, competitor=-400.0, quantity_mw=1.0)
    growing = arriving(2, at_s=401, quantity_mw=1.0)
    venue = sim_venue([winning, reducing, growing])
    async with sim_engine(first, venue) as bot:
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the quote")
        await eventually(lambda: bot.desk.stats.won == 1, "the win", 400)
        (short_mwh,) = bot.desk.book.positions_mwh.values()
    assert short_mwh < 0
    lowered = DEMO_RISK.model_copy(update={"max_position_mwh": -short_mwh / 2})
    async with sim_engine(second, venue, risk=lowered, run_id="second") as bot:
        await eventually(lambda: bool(bot.desk.book.positions_mwh), "positions rebuilt")
        await eventually(lambda: bot.desk.stats.quotes_sent == 1, "the reducing quote", 200)
        await eventually(lambda: bot.desk.stats.declined["position-limit"] == 1, "refused")
        await eventually(lambda: bot.desk.stats.won == 1, "the reducing fill", 400)
        (after_mwh,) = bot.desk.book.positions_mwh.values()
        assert short_mwh < after_mwh < short_mwh / 2  # reduced, still beyond the limit
        assert not bot.deps.killswitch.kills  # a reducing fill is no breach
        intent = next(
            r for r in audit_records(second, "quote-intent") if r["rfq-id"] == reducing.id
        )
        passed = _position_check(intent)
        assert passed["passed"] is True
        assert str(passed["detail"]).startswith("reduce-only: ")
        assert "reduces it" in str(passed["detail"])
        decline = next(r for r in audit_records(second, "decline") if r["rfq-id"] == growing.id)
        refused = _position_check(decline)
        assert refused["passed"] is False
        assert "would grow it" in str(refused["detail"])
