"""One RFQ's whole story from the trail: received, priced, checked, sent or declined, the
venue's answer, requotes, withdrawal, outcome and fill, in plain words or as JSON, told run by
run (each start record opens a run: an RFQ id seen by two runs is two stories)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from quoter.audit.chain import read_lines
from quoter.audit.verify import trail_files
from quoter.timefmt import stamp_text

# Records about the whole bot that belong in a story told while the RFQ was open.
CONTEXT_KINDS = frozenset(
    {"kill-switch", "resume", "strategy-swap", "shadow-swap", "limits-change"}
)

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at: str
    kind: str
    says: str
    record: Record
    run: str | None = None  # the run id of the start record before it (None: before any)


def last_record_at(path: Path) -> datetime | None:
    """The time of the newest whole record in the trail at `path`, or None (no trail)."""
    for file in reversed(trail_files(path) if path.exists() else []):
        for line in reversed(read_lines(file.read_bytes())):
            if line.record is not None and isinstance(line.record.get("at"), str):
                return datetime.fromisoformat(line.record["at"])
    return None


def load_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every whole record in a directory of daily files (or one file), in order."""
    for file in trail_files(path):
        for line in read_lines(file.read_bytes()):
            if line.record is not None:
                yield line.record


def story(records: Iterable[Record], rfq_id: str) -> list[Event]:
    """The RFQ's records and the bot-wide ones while it was open, each with its run."""
    runs: dict[str | None, list[Record]] = {}
    run: str | None = None
    for r in records:
        if r.get("kind") == "start":
            run = str(r.get("run-id"))
        runs.setdefault(run, []).append(r)
    return [event for run, part in runs.items() for event in _run_story(part, rfq_id, run)]


def _run_story(everything: list[Record], rfq_id: str, run: str | None) -> list[Event]:
    own = [r for r in everything if _about(r) == rfq_id]
    if not own:
        return []
    first, last = own[0]["seq"], own[-1]["seq"]
    chosen = [
        r
        for r in everything
        if _about(r) == rfq_id or (r["kind"] in CONTEXT_KINDS and first <= r["seq"] <= last)
    ]
    events, intents = [], 0
    for r in chosen:
        if r["kind"] == "quote-intent":
            intents += 1
        events.append(Event(r["seq"], r["at"], r["kind"], _say(r, requote=intents > 1), r, run))
    return events


def run_starts(records: Iterable[Record]) -> dict[str, Record]:
    """Each run's start record, by run id."""
    return {str(r.get("run-id")): r for r in records if r.get("kind") == "start"}


def runs_of(events: list[Event]) -> list[str | None]:
    """The runs the story spans, in order."""
    return list(dict.fromkeys(e.run for e in events))


def render_text(
    rfq_id: str, events: list[Event], starts: Mapping[str, Record] | None = None
) -> str:
    if not events:
        return f"RFQ {rfq_id}: not in the trail"
    runs = runs_of(events)
    told = f", in {len(runs)} runs (the same id seen by each)" if len(runs) > 1 else ""
    lines = [f"RFQ {rfq_id}: {len(events)} records{told}; times by the bot's clock"]
    run: object = object()
    for event in events:
        if event.run != run:
            run = event.run
            lines.append(_run_heading(event.run, (starts or {}).get(str(event.run))))
        body = event.says.replace("\n", "\n" + " " * 29)
        lines.append(f"  {stamp_text(event.at):<25}  {body}")
    return "\n".join(lines)


def _run_heading(run: str | None, start: Record | None) -> str:
    if run is None:
        return "before any start record:"
    if start is None:
        return f"run {run}:"
    clock = start.get("clock") or "wall"
    seed = f", market seed {start['seed']}" if start.get("seed") is not None else ""
    at = stamp_text(start.get("at"))
    return f"run {run}, started {at} ({clock} clock{seed}), strategy {start.get('strategy')}:"


def render_json(
    rfq_id: str, events: list[Event], starts: Mapping[str, Record] | None = None
) -> bytes:
    known = starts or {}
    body = {
        "rfq-id": rfq_id,
        "runs": [
            {
                "run-id": run,
                "started-at": known.get(str(run), {}).get("at"),
                "clock": known.get(str(run), {}).get("clock"),
                "seed": known.get(str(run), {}).get("seed"),
            }
            for run in runs_of(events)
        ],
        "events": [
            {
                "seq": e.seq,
                "at": e.at,
                "run-id": e.run,
                "kind": e.kind,
                "says": e.says,
                "record": dict(e.record),
            }
            for e in events
        ],
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def _about(record: Record) -> str | None:
    if record.get("kind") == "rfq" and isinstance(record.get("rfq"), Mapping):
        return str(record["rfq"].get("id"))
    rfq_id = record.get("rfq-id")
    return None if rfq_id is None else str(rfq_id)


def _say(r: Record, *, requote: bool) -> str:
    say = _SAYINGS.get(str(r["kind"]))
    if say is None:
        return f"{r['kind']}: " + ", ".join(f"{k}={v}" for k, v in _data(r).items())
    return say(r, requote)


def _data(r: Record) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k not in {"seq", "at", "kind", "prev", "hash"}}


def _received(r: Record, _: bool) -> str:
    q = r["rfq"]
    side = q.get("action") or "two-way"
    return (
        f"received RFQ {q.get('short-id')}: requester wants to {side} {q.get('quantity-mw')} MW "
        f"{q.get('commodity')} {q.get('market-area')} {q.get('load')} {q.get('label')} "
        f"({stamp_text(q.get('start'))} .. {stamp_text(q.get('end'))}), "
        f"quotes until {stamp_text(q.get('deadline'))}, "
        f"requester {q.get('requester')}"
    )


def _priced(r: Record) -> list[str]:
    d = r.get("decision")
    if not isinstance(d, Mapping):
        return []
    price = (
        f"price {d.get('price')}"
        if d.get("price") is not None
        else f"bid {d.get('bid')} / ask {d.get('ask')}"
    )
    parts = ", ".join(f"{k} {v}" for k, v in (d.get("components") or {}).items())
    age = r.get("curve-age-s")
    age_text = "" if age is None else f", {age:.0f} s old"
    return [
        f"priced by {_strategy(r)}: mid {d.get('mid')}, {price} (side {d.get('side')})",
        f"components: {parts or 'none'}; {d.get('delivery-hours')} h, {d.get('energy-mwh')} MWh",
        f"curve {d.get('curve-id')} as of {stamp_text(d.get('curve-as-of'))}{age_text}",
        *_notes(d),
    ]


def _notes(d: Record) -> list[str]:
    notes = d.get("notes")
    if not isinstance(notes, Mapping) or not notes:
        return []
    return ["why: " + ", ".join(f"{k} {v}" for k, v in notes.items())]


def _strategy(r: Record) -> str:
    text = f"strategy {r.get('strategy')}"
    if r.get("strategy-version") is not None:
        text += f" v{r['strategy-version']}"
    params = r.get("strategy-params", r.get("params"))
    if isinstance(params, Mapping) and params:
        text += " (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
    return text


def _checks(r: Record) -> list[str]:
    checks = r.get("checks") or []
    return [
        f"risk check {c.get('code')}: {'passed' if c.get('passed') else 'FAILED'}"
        + (f" ({c['detail']})" if c.get("detail") else "")
        for c in checks
    ]


def _intent(r: Record, requote: bool) -> str:
    verb = "requoting" if requote else "quoting"
    sent = f"{verb}: sending {r.get('client-quote-id')}, valid until {stamp_text(r.get('valid-until'))}"
    return "\n".join([*_priced(r), *_checks(r), sent])


def _declined(r: Record, _: bool) -> str:
    said = f"declined: {r.get('reason')}" + (f" ({r['detail']})" if r.get("detail") else "")
    lines = [*_priced(r), *_checks(r), said]
    if not _priced(r) and r.get("strategy"):
        lines.insert(0, f"{_strategy(r)} in charge")
    return "\n".join(lines)


def _answer(r: Record, _: bool) -> str:
    extra = f", venue quote id {r['quote_id']}" if r.get("quote_id") else ""
    return f"venue answered {r.get('client-quote-id')}: {r.get('answer')}{extra}"


_SAYINGS: dict[str, Callable[[Record, bool], str]] = {
    "rfq": _received,
    "rfq-refused": lambda r, _: f"the venue's item was refused as malformed: {r.get('reason')}",
    "quote-intent": _intent,
    "decline": _declined,
    "quote-answer": _answer,
    "withdrawal": lambda r, _: f"withdrawal ({r.get('why')}): {r.get('result')}",
    "outcome": lambda r, _: (
        f"outcome: RFQ {r.get('status')}, our quote {r.get('my-quote-status')} "
        f"({r.get('client-quote-id')})"
    ),
    "fill": lambda r, _: f"filled: we {r.get('side')} at {r.get('price')} EUR/MWh",
    "outcome-resolved": lambda r, _: (
        f"unanswered submit {r.get('client-quote-id')} resolved: found {r.get('found') or 'nothing'}"
    ),
    "kill-switch": lambda r, _: (
        f"kill switch now {r.get('state')}: {', '.join(map(str, r.get('kills') or [])) or 'no kills'}"
    ),
    "strategy-swap": lambda r, _: (
        f"strategy swapped by {r.get('by')} ({r.get('source')}): {r.get('old')} -> {r.get('new')}"
    ),
    "shadow-swap": lambda r, _: f"shadow strategy changed by {r.get('by')}: {r.get('new')}",
    "shadow": lambda r, _: (
        "shadow strategy priced it too (never sent): "
        + ", ".join(f"{k}={v}" for k, v in _data(r).items() if k != "rfq-id")
    ),
    "resume": lambda r, _: f"resume by {r.get('by')}: lifted {', '.join(r.get('lifted') or [])}",
}
