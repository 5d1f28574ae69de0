"""A short tape's replay, pinned: counts, reasons, P&L to the cent and a digest of every
decision and fill. A speed-up of the replay (its venue, market, guard or driver) must leave
these exactly as they are; a change that means to alter results updates them on purpose."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import ReplaySettings, RunSpec, replay
from quoter.backtest.fills import AuctionFill
from quoter.backtest.results import tables
from quoter.backtest.synth import synthetic_tape
from quoter.engine.config import EngineConfig
from quoter.risk.config import DEMO_RISK
from tests.backtest.helpers import tape_of

# Two trading days (the curves re-marked between them) at a pace the default usage plan paces,
# under limits tight enough that credit and open-quote limits decline some RFQs.
RISK = DEMO_RISK.model_copy(update={"credit_limit_eur": 3e7, "max_open_quotes": 6})


def _digest(frame: pd.DataFrame) -> str:
    text = frame.to_csv(index=False, float_format="%.6f")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_a_short_tapes_replay_gives_exactly_the_pinned_results(tmp_path: Path) -> None:
    tape = tape_of(synthetic_tape(2, per_min=0.6, seed=3))
    config = EngineConfig.model_validate(
        {"kill": {"latch_path": tmp_path / "k.json"}, "audit_dir": tmp_path / "audit"}
    )
    curves = DailyCurves(None, tape.start.date())
    settings = ReplaySettings(config, RISK)
    done = replay(tape, RunSpec("pinned"), AuctionFill(), settings, curves)
    got = tables(done, curves)
    summary = got["summary"].iloc[0]
    decisions, fills = got["decisions"], got["fills"]
    figures = {
        "rfqs": len(tape),
        "decisions": len(decisions),
        "by action and reason": decisions.fillna({"reason": "-"})
        .groupby(["action", "reason"])
        .size()
        .to_dict(),
        "fills": len(fills),
        "pnl at trade": round(float(summary["pnl_at_trade"]), 2),
        "pnl +1d": round(float(summary["pnl_+1d"]), 2),
        "pnl +5d": round(float(summary["pnl_+5d"]), 2),
        "requotes": done.desk.stats.requotes_sent,
        "decisions digest": _digest(decisions.drop(columns=["run"])),
        "fills digest": _digest(fills.drop(columns=["run"])),
    }
    assert figures == PINNED


PINNED: dict[str, object] = {
    "rfqs": 742,
    "decisions": 742,
    "by action and reason": {
        ("decline", "credit-limit"): 146,
        ("decline", "max-open-quotes"): 39,
        ("quote", "-"): 557,
    },
    "fills": 278,
    "pnl at trade": 1392344.39,
    "pnl +1d": 1667659.62,
    "pnl +5d": 1312730.88,
    "requotes": 0,
    "decisions digest": "bf578b7d1ae78043",
    "fills digest": "995daebc5e13293d",
}
