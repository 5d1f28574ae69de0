"""`quoter run` holds its desk's state for as long as it runs: a second bot on any one of the
same state files (a copy of the configuration with other ports) would reconcile away the first
one's quotes, interleave its seqs into the same audit trail and stop the first one's heartbeat.
The tools meant to run beside a bot (status, kill, resume, swap, audit verify, the dead-man's
switch) take no such lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from quoter.admin import swap_record
from quoter.basics.state_lock import hold_states
from quoter.clock import SystemClock
from quoter.commands._deadman import switch_on
from quoter.config import QuoterConfig
from quoter.timefmt import stamp


def desk_states(config: QuoterConfig, source: Path | None) -> list[tuple[str, Path]]:
    """Every state path a run of `source` (None: the demo) writes that no other may share, the
    audit trail first (the worst to corrupt, so the one a refusal names when a twin shares
    everything). The audit key is left out: it is only read once made, and desks may share
    one; the heartbeat is in only when the run writes it (its dead-man's switch on), so runs
    without one do not hold the default path they never use."""
    engine = config.engine
    states = [
        ("audit trail", engine.audit_dir),
        ("audit anchor", engine.audit_anchor_path),
        ("kill latch", engine.kill.latch_path),
        ("quota ledger", config.venue.usage_plan.ledger_path),
    ]
    if engine.trades_file is not None:
        states.append(("trade file", engine.trades_file))
    if switch_on(config, source):
        states.append(("heartbeat", engine.deadman.heartbeat_path))
    states.append(("strategy swap record", swap_record.record_path(engine)))
    return states


@contextmanager
def hold_desk(config: QuoterConfig, source: Path | None) -> Iterator[None]:
    """The desk's state held until the block ends; StateInUse (exit 2) if a bot holds any."""
    with hold_states(desk_states(config, source), stamp(SystemClock().now())):
        yield
