"""win_curve against curve_spread on the sample tape, out of sample, under the auction fill.

The tape (backtests/sample-tape.parquet, the desk of backtests/sample-desk.toml) is cut in two
halves by created-at. On the first half only: curve_spread is replayed at a small sweep of its
half-spread (its tenor steps scaled by SCALES); the best of them by P&L at the trade is the one
compared; and the win curve is fitted by segment on the outcomes of all those replays' quotes
(each RFQ's last quote per run: won if it filled), which is what a desk that had quoted those
prices would know of its own flow. On the second half, win_curve (quoting from that fit) and
the chosen curve_spread are replayed and compared side by side. Nothing of the second half is
seen before it is replayed, so neither the fit nor the choice of half-spread is circular.

The comparison is like for like: curve_spread does not lean against inventory, so the
`win_curve` column does not either (`lean_eur_mwh_per_mwh=0`). The default lean is shown
beside it (`win_curve lean`) for what it costs: at 0.0001 EUR/MWh per MWh, this desk's usual
exposure of about 50,000 MWh shifts prices by 5 EUR/MWh, more than the whole markup range, so
the lean pins each quote to a bound (the side that sheds exposure to the minimum markup).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from quoter.backtest import driver
from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import ReplaySettings, RunSpec
from quoter.backtest.fills import AuctionFill
from quoter.backtest.results import concat, tables
from quoter.backtest.segments import from_replay, write_segment_fit
from quoter.backtest.tape import Tape, parse_frame, read_frame
from quoter.config import load_config, require_risk
from strategies.curve_spread import CurveSpread

TAPE = Path("backtests/sample-tape.parquet")
DESK = Path("backtests/sample-desk.toml")
SCALES = (0.5, 1.0, 2.0, 3.0, 4.0)
COLUMNS = {
    "pnl_at_trade": "P&L at trade EUR",
    "pnl_+5d": "P&L +5d EUR",
    "hit_ratio": "hit ratio",
    "spread_eur_mwh": "spread EUR/MWh",
    "quoted": "RFQs quoted",
    "fills": "fills",
    "declines": "declines",
}


def halves(path: Path = TAPE) -> tuple[Tape, Tape]:
    frame = read_frame(path).sort_values("created_at", kind="stable")
    cut = frame.created_at.min() + (frame.created_at.max() - frame.created_at.min()) / 2
    first, second = frame[frame.created_at < cut], frame[frame.created_at >= cut]
    shapes = path.parent
    return (
        parse_frame(first.reset_index(drop=True), f"{path} (first half)", shapes),
        parse_frame(second.reset_index(drop=True), f"{path} (second half)", shapes),
    )


def spread_params(scale: float) -> dict[str, object]:
    steps = CurveSpread().tenor_half_spread_eur_mwh
    return {"tenor_half_spread_eur_mwh": tuple((d, round(h * scale, 4)) for d, h in steps)}


def replay(tape: Tape, specs: list[RunSpec], origin: date) -> dict[str, pd.DataFrame]:
    """Each run as `quoter backtest --config DESK --fill auction` replays it, but on the curves
    of the whole tape (their daily walk starts at `origin`, the tape's first day), so that both
    halves see the market the whole tape would."""
    config = load_config(DESK)
    settings = ReplaySettings(
        config.engine, require_risk(config, str(DESK)), config.venue.usage_plan
    )
    parts = []
    for spec in specs:
        curves = DailyCurves(None, origin, seed=0)
        run = driver.replay(tape, spec, AuctionFill(), settings, curves)
        parts.append(tables(run, curves))
    return concat(parts)


def evaluate(fit_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(the first half's sweep, the second half's comparison, what the fit says)."""
    first, second = halves()
    origin = first.start.date()
    sweep = [RunSpec(f"curve_spread x{s:g}", "curve_spread", spread_params(s)) for s in SCALES]
    learnt = replay(first, sweep, origin)
    summary = learnt["summary"].set_index("run")
    best = str(summary.pnl_at_trade.idxmax())
    quoted = from_replay(learnt["decisions"], learnt["fills"], first)
    written = write_segment_fit(
        quoted, fit_path, source=f"{TAPE} first half, curve_spread x{SCALES}", created_at=first.end
    )
    chosen = next(s for s in sweep if s.label == best)
    win_curve = RunSpec("win_curve", "win_curve", {"fit": str(fit_path), "lean_eur_mwh_per_mwh": 0})
    leaning = RunSpec("win_curve lean", "win_curve", {"fit": str(fit_path)})
    held_out = replay(second, [chosen, win_curve, leaning], origin)
    return (
        summary,
        held_out["summary"].set_index("run"),
        "\n".join([*written.lines[:2], written.lines[-3]]),
    )


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        summary, held_out, fitted = evaluate(Path(tmp) / "win-fit.json")
    print("first half (fit and choice of half-spread):")
    print(_readable(summary).to_string())
    print(fitted)
    print("second half (held out), auction fill:")
    print(_readable(held_out).T.to_string())


def _readable(summary: pd.DataFrame) -> pd.DataFrame:
    """The columns for people: euros and counts whole with thousands separators, ratios and
    spreads to three decimals."""
    shown = summary[list(COLUMNS)].astype(float)
    whole = ("pnl_at_trade", "pnl_+5d", "quoted", "fills", "declines")
    text = {
        column: shown[column].map("{:,.0f}".format if column in whole else "{:.3f}".format)
        for column in COLUMNS
    }
    return pd.DataFrame(text, index=shown.index).rename(columns=COLUMNS)
