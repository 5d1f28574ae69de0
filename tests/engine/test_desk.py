"""The desk's record of the RFQs the engine follows: one record per open RFQ, added and
forgotten in one place, so nothing of a forgotten RFQ is left behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from quoter.domain import RfqStatus
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


def test_an_ended_rfq_is_forgotten_and_its_end_remembered_until_past_its_deadline() -> None:
    rfqs = OpenRfqs()
    rfq = make_rfq(id="ended")
    record = rfqs.add(rfq, ("v1",), seen_at_s=1.0)
    traded = replace(rfq, status=RfqStatus.TRADED)
    assert rfqs.end(traded) is record
    assert "ended" not in rfqs
    assert rfqs.end(replace(rfq, status=RfqStatus.EXPIRED)) is None  # the first end is kept
    remembered = rfqs.ended("ended")
    assert remembered is not None
    assert (remembered.status, remembered.quote_deadline) == (RfqStatus.TRADED, rfq.quote_deadline)
    rfqs.forget_ended(rfq.quote_deadline)  # a deadline not before: kept
    assert rfqs.ended("ended") is not None
    rfqs.forget_ended(rfq.quote_deadline + timedelta(seconds=1))
    assert rfqs.ended("ended") is None
