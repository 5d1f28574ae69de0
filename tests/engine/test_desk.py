"""The desk's record of the RFQs the engine follows: one record per open RFQ, added and
forgotten in one place, so nothing of a forgotten RFQ is left behind."""

from __future__ import annotations

from quoter.engine.desk import OpenRfqs
from tests.factories import make_rfq
from tests.strategies.factories import make_shape


def test_forgetting_an_rfq_takes_its_listing_version_shape_and_seen_time_at_once() -> None:
    rfqs = OpenRfqs()
    kept, gone = make_rfq(id="kept"), make_rfq(id="gone")
    rfqs.add(kept, ("v1",), seen_at_s=1.0)
    record = rfqs.add(gone, ("v1",), seen_at_s=2.0)
    record.shape = make_shape(gone.instrument.start, gone.instrument.end)
    forgotten = rfqs.forget("gone")
    assert forgotten is record
    assert (forgotten.rfq, forgotten.version, forgotten.seen_at_s) == (gone, ("v1",), 2.0)
    assert forgotten.shape is not None
    assert rfqs.get("gone") is None
    assert "gone" not in rfqs
    assert [r.rfq.id for r in rfqs] == ["kept"]
    assert len(rfqs) == 1
    assert rfqs.forget("gone") is None  # twice is nothing
