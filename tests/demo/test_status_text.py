"""`quoter status` for a person: times with their offset and their clock, each condition in a
sentence, the shadow and its parameters, and no Python reprs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quoter.engine.status import render_status, status_of
from quoter.timefmt import WallTimeFormatter, hour_minute, stamp, stamp_text
from tests.conftest import SANDBOX_START
from tests.engine.harness import eventually, fast_sandbox, running_engine

CLOSED_AT = "2026-12-01T19:00:00+01:00"


def a_status(**overrides: object) -> dict[str, object]:
    status: dict[str, object] = {
        "now": CLOSED_AT,
        "clock": "demo",
        "state": "reducing",
        "kills": [],
        "conditions": {},
        "next-open": None,
        "strategy": "curve-spread",
        "strategy-params": {},
        "shadow": None,
        "rfqs-seen": 0,
        "rfqs-open": 0,
        "rfqs-malformed": 0,
        "quotes-sent": 0,
        "requotes-sent": 0,
        "quotes-live": 0,
        "quotes-refused": 0,
        "outcomes-unknown": 0,
        "quotes-possibly-live": 0,
        "declined": {},
        "won": 0,
        "lost": 0,
        "fill-rate": None,
        "withdrawn": 0,
        "quota-spent": 0,
        "quota-left": 5000,
        "quota-left-for-polling": 4250,
        "next-poll-s": 1.0,
        "poll-mode": "even",
        "seen-to-sent-ms-p50": None,
        "seen-to-sent-ms-p99": None,
        "pricing-ms-p50": None,
    }
    return status | overrides


def test_outside_trading_hours_says_what_it_does_and_until_when() -> None:
    status = a_status(
        conditions={"market-closed": "outside trading hours"},
        **{"next-open": "2026-12-02T07:00:00+00:00"},
    )
    text = render_status(status)
    assert "outside trading hours: withdrawing, no new quotes until 2026-12-02 08:00:00+01:00" in (
        text
    )
    same_day = a_status(
        now="2026-12-02T06:00:00+01:00",
        conditions={"market-closed": "outside trading hours"},
        **{"next-open": "2026-12-02T07:00:00+00:00"},
    )
    assert "no new quotes until 08:00+01:00" in render_status(same_day)


def test_the_shadow_and_the_parameters_are_shown_without_reprs() -> None:
    status = a_status(
        **{
            "strategy-params": {"half_spread_eur_mwh": 0.8},
            "shadow": {"name": "inventory-skew", "params": {"inner": {"name": "curve-spread"}}},
            "kills": [
                {
                    "id": 1,
                    "reason": "manual kill",
                    "by": "root (admin)",
                    "at": "2026-12-01T18:00:00+00:00",
                    "scope": {"areas": ["DE"]},
                },
            ],
        }
    )
    text = render_status(status)
    assert "strategy curve-spread (half_spread_eur_mwh=0.8)" in text
    assert "shadow  inventory-skew (inner={name: curve-spread}): prices, sends nothing" in text
    assert "manual kill — kill 1, areas DE, by root (admin) at 2026-12-01 19:00:00+01:00" in text
    assert "['" not in text
    assert "{'" not in text
    assert "UTC+" not in text


def test_the_clock_of_the_time_and_the_latencies_is_named() -> None:
    text = render_status(a_status(**{"seen-to-sent-ms-p50": 12.0}))
    assert text.splitlines()[0].startswith("quoter  2026-12-01 19:00:00+01:00 (demo time)")
    assert "latency (demo time) seen→sent p50 12.0 ms" in text
    assert "(wall time)" in render_status(a_status(clock="wall"))


def test_one_convention_for_every_time() -> None:
    at = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert stamp(at) == "2026-07-01 09:00:00+02:00"
    assert hour_minute(at) == "09:00+02:00"
    assert stamp_text("2026-12-01T08:00:00Z") == "2026-12-01 09:00:00+01:00"
    assert stamp_text("not a time") == "not a time"
    record = logging.LogRecord("quoter", logging.WARNING, "", 0, "said", None, None)
    record.created = at.timestamp()
    line = WallTimeFormatter("%(asctime)s %(message)s").format(record)
    assert line == "2026-07-01 09:00:00+02:00 wall said"


async def test_a_closed_market_s_status_gives_the_next_open_and_the_clock(tmp_path: Path) -> None:
    saturday = SANDBOX_START + timedelta(days=5)
    async with fast_sandbox(start=saturday) as sandbox, running_engine(sandbox, tmp_path) as bot:
        await eventually(lambda: bot.engine.last_plan.reason == "closed", "closed")
        status = status_of(bot.deps, bot.desk, bot.engine.last_plan)
    assert status["conditions"] == {"market-closed": "outside trading hours"}
    assert status["next-open"] == "2026-03-09T08:00:00+01:00"  # Monday
    assert status["clock"] == "wall"
    assert "no new quotes until 2026-03-09 08:00:00+01:00" in render_status(status)
