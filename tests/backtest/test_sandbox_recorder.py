"""The sandbox recorder keeps what the store evicts, and says when it could not."""

from __future__ import annotations

from quoter.backtest.record import SandboxRecorder
from quoter.domain import Action, RfqStatus
from quoter.sandbox.records import SimRfq
from quoter.sandbox.store import Store
from tests.factories import make_rfq


def _add(store: Store, first: int, count: int) -> None:
    for i in range(first, first + count):
        rfq = make_rfq(id=f"r{i}", status=RfqStatus.EXPIRED)  # ended: the store may evict it
        store.add_rfq(SimRfq(rfq, None, None, None, Action.BUY, None))


def test_rfqs_evicted_between_looks_are_kept_and_a_turnover_is_counted() -> None:
    store = Store(max_rfqs=5, max_quotes=5, max_trades=5)
    recorder = SandboxRecorder(store)
    _add(store, 0, 4)
    recorder.collect()
    _add(store, 4, 3)  # r0 and r1 evicted, r2 and r3 still there: nothing lost
    recorder.collect()
    assert len(recorder) == 7
    assert recorder.gaps == 0
    _add(store, 7, 8)  # the whole store turned over: r7 to r9 went unseen
    recorder.collect()
    assert len(recorder) == 12
    assert recorder.gaps == 1
