"""quoter's replay beside a peer's: NautilusTrader's BacktestEngine on a comparable workload (per
event one decision, one order, one cancel-or-fill; `peer_nautilus.py`), in one run, interleaved
(quoter, peer, quoter, peer, ...) so that the machine's noise falls on both alike; the fastest
round of each counts. Also the shipped sample month's marginal rate against the peer.

NautilusTrader pins pandas < 3 and quoter needs pandas >= 3: the peer runs in a virtualenv of
its own, `.venv-peer` beside the checkout or the interpreter `QUOTER_PEER_PYTHON` names
(`python3.11 -m venv .venv-peer && .venv-peer/bin/pip install -r benchmarks/peer-requirements.txt`).
Without it the benchmark says so and is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from benchmarks.bench_backtest import ROOT, MonthRuns, dense_tape, replay_rate

PEER_SCRIPT = Path(__file__).with_name("peer_nautilus.py")
EVENTS = 20_000
ROUNDS = 3


def peer_python() -> Path | None:
    """The interpreter that has NautilusTrader, or None."""
    named = os.environ.get("QUOTER_PEER_PYTHON")
    python = Path(named) if named else ROOT / ".venv-peer" / "bin" / "python"
    if not python.exists():
        return None
    found = subprocess.run([python, "-c", "import nautilus_trader"], capture_output=True)
    return python if found.returncode == 0 else None


def peer_rate(python: Path, events: int) -> tuple[float, dict[str, float]]:
    answer = subprocess.run(
        [python, PEER_SCRIPT, str(events)], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(answer.stdout.strip().splitlines()[-1])
    return figures["events"] / figures["seconds"], figures


def run() -> None:
    python = peer_python()
    if python is None:
        print(
            "peer: skipped, NautilusTrader is not installed: make its own virtualenv "
            "(python3.11 -m venv .venv-peer && .venv-peer/bin/pip install -r "
            "benchmarks/peer-requirements.txt) or name one in QUOTER_PEER_PYTHON"
        )
        return
    tape = dense_tape(EVENTS)
    ours, theirs = [], []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as work:
        month = MonthRuns(Path(work))
        for n in range(ROUNDS):
            ours.append(replay_rate(tape, quiet=True))
            rate, figures = peer_rate(python, EVENTS)
            theirs.append(rate)
            if n < 2:  # a month and its half take a minute or more: two pairs are enough
                month.one_pair()
            print(
                f"round {n + 1}: quoter replay {ours[-1]:,.0f} RFQs/s, NautilusTrader "
                f"{theirs[-1]:,.0f} events/s",
                flush=True,
            )
    best_ours, best_theirs, marginal = max(ours), max(theirs), month.marginal()
    print(
        f"NautilusTrader: {EVENTS:,} quote ticks, each one decision, one limit order and one "
        f"cancel-or-fill ({figures['fills']:,.0f} fills, {figures['cancels']:,.0f} cancels): "
        f"{best_theirs:,.0f} events/s (best of {ROUNDS})"
    )
    print(
        f"quoter replay: {len(tape):,} RFQs on a dense tape, each quoted and then won or lost: "
        f"{best_ours:,.0f} RFQs/s = {best_ours / best_theirs:.2f}x NautilusTrader (goal: 2x)"
    )
    print(month.describe())
    print(
        f"sample month marginal (curve builds per day included) = "
        f"{marginal / best_theirs:.2f}x NautilusTrader (goal: 2x)"
    )
