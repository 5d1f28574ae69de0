"""The trail's codec: every event type round-trips through its JSON, a trail written by the
engine before the typed events decodes and re-encodes to the same bytes, and a malformed record
is refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quoter.audit import verify
from quoter.audit.chain import canonical, read_lines
from quoter.audit.codec import ABSENT, BOOL, INT, NUMBER, OBJECT, TEXT, Shape, fields_of
from quoter.audit.events import (
    CHAIN_FIELDS,
    EVENTS,
    EventError,
    QuoteIntent,
    Unknown,
    decode,
    encode,
    read,
)

TRAIL = Path(__file__).parent / "data" / "engine-trail.jsonl"  # an engine run, dicts era

texts = st.text(max_size=8)
ints = st.integers(-(2**63), 2**63 - 1)  # what orjson writes
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
PLAIN: dict[int, st.SearchStrategy[Any]] = {
    id(TEXT): texts,
    id(NUMBER): ints | st.floats(allow_nan=False, allow_infinity=False),
    id(INT): ints,
    id(BOOL): st.booleans(),
    id(OBJECT): st.dictionaries(texts, json_values, max_size=3),
}


def values_of(shape: Shape) -> st.SearchStrategy[Any]:
    if shape.form == "optional":
        assert shape.inner is not None
        return st.none() | values_of(shape.inner)
    if shape.form == "many":
        assert shape.inner is not None
        return st.lists(values_of(shape.inner), max_size=3).map(tuple)
    if shape.form == "nested":
        assert shape.cls is not None
        return instances_of(shape.cls)
    return PLAIN[id(shape)]


def instances_of(cls: type) -> st.SearchStrategy[Any]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in fields_of(cls):
        value = values_of(f.metadata["shape"])
        fields[f.name] = (st.just(ABSENT) | value) if f.default is ABSENT else value
    return st.builds(cls, **fields)


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.kind)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips_through_its_record(
    cls: type[Any], data: st.DataObject
) -> None:
    event = data.draw(instances_of(cls))
    record = {**encode(event), "kind": cls.kind, "seq": 7, "at": "x", "prev": "p", "hash": "h"}
    line = canonical(record)  # through the bytes the trail holds
    back = decode(orjson.loads(line))
    assert back == event
    assert canonical({**encode(back), **{k: record[k] for k in CHAIN_FIELDS}}) == line


def test_a_trail_the_engine_wrote_decodes_and_re_encodes_to_the_same_bytes() -> None:
    content = TRAIL.read_bytes()
    lines = read_lines(content)
    kinds = set()
    for line, raw in zip(lines, content.splitlines(), strict=True):
        assert line.record is not None
        event = decode(line.record)
        assert not isinstance(event, Unknown), line.record["kind"]
        assert not getattr(event, "extra", None), (line.record["kind"], event)
        chain = {k: line.record[k] for k in CHAIN_FIELDS}
        assert canonical({**encode(event), **chain}) == raw
        kinds.add(line.record["kind"])
    assert {"start", "rfq", "quote-intent", "decline", "quote-answer", "outcome", "fill"} <= kinds
    assert {"shadow", "strategy-swap", "resume", "withdrawal", "withdrawal-pass"} <= kinds


def test_the_fixture_trail_still_verifies(tmp_path: Path) -> None:
    day = orjson.loads(TRAIL.read_bytes().splitlines()[0])["at"][:10]
    (tmp_path / f"audit-{day}.jsonl").write_bytes(TRAIL.read_bytes())
    assert verify(tmp_path).intact, verify(tmp_path).summary()


def _intent() -> dict[str, Any]:
    for line in read_lines(TRAIL.read_bytes()):
        if line.record is not None and line.record["kind"] == "quote-intent":
            return line.record
    raise AssertionError("no quote-intent in the fixture")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda r: r["sent"].update(price="abc"), "sent: price: expected a number or null"),
        (lambda r: r.pop("rfq-id"), "rfq-id is missing"),
        (lambda r: r["checks"][1].update(passed="yes"), "checks[1]: passed: expected true"),
        (lambda r: r.update(decision=[1]), "decision: expected an object"),
        (lambda r: r["decision"].update(mid=True), "decision: mid: expected a number"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(change: Any, said: str) -> None:
    record = _intent()
    change(record)
    with pytest.raises(EventError) as raised:
        decode(record)
    assert str(raised.value).startswith(f"quote-intent record (seq {record['seq']}): {said}")


def test_an_unknown_kind_and_unknown_keys_are_kept_as_read() -> None:
    newer = {"seq": 1, "at": "t", "kind": "from-the-future", "prev": "p", "hash": "h", "x": [1]}
    event = decode(newer)
    assert event == Unknown("from-the-future", {"x": [1]})
    assert encode(event) == {"x": [1]}
    intent = {**_intent(), "added-later": {"a": 1}}
    decoded = decode(intent)
    assert isinstance(decoded, QuoteIntent)
    assert decoded.extra == {"added-later": {"a": 1}}
    assert encode(decoded)["added-later"] == {"a": 1}


def test_read_gives_each_event_its_place() -> None:
    records = [line.record for line in read_lines(TRAIL.read_bytes()) if line.record]
    logged = list(read(records))
    assert [e.seq for e in logged] == [r["seq"] for r in records]
    assert logged[0].at == records[0]["at"]
