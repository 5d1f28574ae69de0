"""Calibrating the logistic fill model on a live audit trail, and replaying with it."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from quoter.audit.trail import JsonlAudit
from quoter.backtest.tape import write_tape
from quoter.cli import main
from tests.audit.records import outcome, quote_intent
from tests.backtest.helpers import short_tape

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _trail(directory: Path, quotes: int, a: float, b: float) -> None:
    """Quotes whose wins follow P = 1 / (1 + exp(-(a + b * edge))), plus what must be ignored:
    a requote's first price, two-way quotes, withdrawn quotes."""
    rng = random.Random(5)
    audit = JsonlAudit(directory)
    at = T0
    for i in range(quotes):
        at += timedelta(seconds=1)
        side = rng.choice(["buy", "sell"])
        mid, edge = 50.0, rng.gauss(0.0, 1.0)
        price = mid - edge if side == "sell" else mid + edge
        rfq = f"r{i}"
        if i % 10 == 0:  # a requote: only its last price counts
            audit.record("quote-intent", at, quote_intent(rfq, side, mid, mid + 99))
        audit.record("quote-intent", at, quote_intent(rfq, side, mid, price))
        won = rng.random() < 1 / (1 + math.exp(-(a + b * edge)))
        audit.record("outcome", at, outcome(rfq, "won" if won else "lost"))
    for i in range(50):
        audit.record("quote-intent", at, quote_intent(f"two-way-{i}", None, 50.0, 50.0))
        audit.record("outcome", at, outcome(f"two-way-{i}", "lost"))
        audit.record("quote-intent", at, quote_intent(f"gone-{i}", "sell", 50.0, 80.0))
        audit.record("outcome", at, outcome(f"gone-{i}", "withdrawn"))


def test_calibration_recovers_the_desks_win_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trail(tmp_path / "audit", 4000, a=-0.3, b=1.4)
    assert main(["backtest", "calibrate", "--audit", str(tmp_path / "audit")]) == 0
    out = capsys.readouterr().out
    a = float(out.split("a=")[1].split()[0])
    b = float(out.split("b=")[1].split()[0])
    assert abs(a + 0.3) < 0.1
    assert abs(b - 1.4) < 0.12
    assert "from 4000 one-way quotes" in out  # requotes, two-way and withdrawn left out
    assert f"--fill logistic --logistic {a:.4f},{b:.4f}" in out


def test_too_few_outcomes_are_refused_with_what_there_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trail(tmp_path / "audit", 12, a=0.0, b=1.0)
    assert main(["backtest", "calibrate", "--audit", str(tmp_path / "audit")]) == 2
    err = capsys.readouterr().err
    assert "12 one-way quotes with a known outcome" in err
    assert "need at least 30" in err


def test_a_replay_uses_the_given_logistic_parameters(tmp_path: Path) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=30.0), tape)
    out = tmp_path / "out"
    never = ["--fill", "logistic", "--logistic=-40,0", "--out", str(out)]  # = : a negative A
    assert main(["backtest", "replay", str(tape), *never]) == 0
    assert pd.read_csv(out / "summary.csv").fills.iloc[0] == 0
    assert main(["backtest", "replay", str(tape), "--fill", "logistic", "--out", str(out)]) == 0
    assert pd.read_csv(out / "summary.csv").fills.iloc[0] > 0  # the default curve does fill


def test_logistic_parameters_without_the_logistic_model_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = tmp_path / "tape.parquet"
    write_tape(short_tape(minutes=5.0), tape)
    assert main(["backtest", "replay", str(tape), "--logistic", "0.1,2"]) == 2
    assert "add --fill logistic" in capsys.readouterr().err


def test_a_malformed_record_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trail(tmp_path / "audit", 100, a=0.0, b=1.0)
    broken = {k: v for k, v in quote_intent("r-bad", "sell", 50.0, 51.0).items() if k != "sent"}
    JsonlAudit(tmp_path / "audit").record("quote-intent", T0 + timedelta(days=1), broken)
    for fit_out in ([], ["--fit-out", str(tmp_path / "fit.json")]):
        assert main(["backtest", "calibrate", "--audit", str(tmp_path / "audit"), *fit_out]) == 2
        said = capsys.readouterr().err
        assert "quote-intent record (seq 411): sent is missing" in said, said
        assert "Traceback" not in said
