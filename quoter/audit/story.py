"""One RFQ's whole story from the trail: received, priced, checked, sent or declined, the
venue's answer, requotes, withdrawal, outcome and fill, in plain words or as JSON, told run by
run (each start record opens a run: an RFQ id seen by two runs is two stories)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from quoter.audit import events
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


@dataclass(frozen=True, slots=True)
class RunStart:
    """A run's start record: when, and what it says of the run."""

    at: str
    start: events.Started


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


_Read = tuple[Record, events.Logged]


def story(records: Iterable[Record], rfq_id: str) -> list[Event]:
    """The RFQ's records and the bot-wide ones while it was open, each with its run. A record
    the codec refuses raises its EventError, naming it."""
    runs: dict[str | None, list[_Read]] = {}
    run: str | None = None
    for record in records:
        logged = next(events.read([record]))
        if isinstance(logged.event, events.Started):
            run = logged.event.run_id
        runs.setdefault(run, []).append((record, logged))
    return [event for run, part in runs.items() for event in _run_story(part, rfq_id, run)]


def _run_story(everything: list[_Read], rfq_id: str, run: str | None) -> list[Event]:
    own = [logged.seq for _, logged in everything if _about(logged.event) == rfq_id]
    if not own:
        return []
    first, last = own[0], own[-1]
    told, intents = [], 0
    for record, logged in everything:
        event = logged.event
        context = event.kind in CONTEXT_KINDS and first <= logged.seq <= last
        if not (context or _about(event) == rfq_id):
            continue
        if isinstance(event, events.QuoteIntent):
            intents += 1
        says = _say(event, requote=intents > 1)
        told.append(Event(logged.seq, logged.at, event.kind, says, record, run))
    return told


def run_starts(records: Iterable[Record]) -> dict[str, RunStart]:
    """Each run's start record, by run id."""
    return {
        logged.event.run_id: RunStart(logged.at, logged.event)
        for logged in events.read(records)
        if isinstance(logged.event, events.Started)
    }


def runs_of(told: list[Event]) -> list[str | None]:
    """The runs the story spans, in order."""
    return list(dict.fromkeys(e.run for e in told))


def render_text(
    rfq_id: str, told: list[Event], starts: Mapping[str, RunStart] | None = None
) -> str:
    if not told:
        return f"RFQ {rfq_id}: not in the trail"
    runs = runs_of(told)
    spans = f", in {len(runs)} runs (the same id seen by each)" if len(runs) > 1 else ""
    lines = [f"RFQ {rfq_id}: {len(told)} records{spans}; times by the bot's clock"]
    run: object = object()
    for event in told:
        if event.run != run:
            run = event.run
            lines.append(_run_heading(event.run, (starts or {}).get(str(event.run))))
        body = event.says.replace("\n", "\n" + " " * 29)
        lines.append(f"  {stamp_text(event.at):<25}  {body}")
    return "\n".join(lines)


def _run_heading(run: str | None, known: RunStart | None) -> str:
    if run is None:
        return "before any start record:"
    if known is None:
        return f"run {run}:"
    start = known.start
    clock = start.clock or "wall"
    seed = f", market seed {start.seed}" if isinstance(start.seed, int) else ""
    at = stamp_text(known.at)
    return f"run {run}, started {at} ({clock} clock{seed}), strategy {start.strategy}:"


def render_json(
    rfq_id: str, told: list[Event], starts: Mapping[str, RunStart] | None = None
) -> bytes:
    known = starts or {}

    def run_of(run: str | None) -> dict[str, object]:
        found = known.get(str(run))
        start = None if found is None else found.start
        return {
            "run-id": run,
            "started-at": None if found is None else found.at,
            "clock": None if start is None else (start.clock or None),
            "seed": None if start is None or not isinstance(start.seed, int) else start.seed,
        }

    body = {
        "rfq-id": rfq_id,
        "runs": [run_of(run) for run in runs_of(told)],
        "events": [
            {
                "seq": e.seq,
                "at": e.at,
                "run-id": e.run,
                "kind": e.kind,
                "says": e.says,
                "record": dict(e.record),
            }
            for e in told
        ],
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def _about(event: events.Event | events.Unknown) -> str | None:
    """The RFQ a record is about, if any."""
    if isinstance(event, events.RfqSeen):
        return event.rfq.id
    if isinstance(event, events.Unknown):
        rfq_id = event.data.get("rfq-id")
        return None if rfq_id is None else str(rfq_id)
    rfq_id = getattr(event, "rfq_id", None)
    return None if rfq_id is None else str(rfq_id)


def _say(event: events.Event | events.Unknown, *, requote: bool) -> str:
    match event:
        case events.RfqSeen(rfq=q):
            return _received(q)
        case events.RfqRefused(reason=reason):
            return f"the venue's item was refused as malformed: {reason}"
        case events.RfqReopened(reason=reason):
            return f"the venue's listing was refused: {reason}"
        case events.BadAnswer(error=error):
            return f"the venue's answer was refused: {error}"
        case events.QuoteIntent():
            return _intent(event, requote)
        case events.QuoteDeclined():
            return _declined(event)
        case events.QuoteAnswered(client_quote_id=cqid, answer=answer, quote_id=quote_id):
            extra = f", venue quote id {quote_id}" if quote_id else ""
            return f"venue answered {cqid}: {answer}{extra}"
        case events.QuoteWithdrawal(why=why, result=result):
            return f"withdrawal ({why}): {result}"
        case events.Outcome(status=status, my_quote_status=mine, client_quote_id=cqid):
            return f"outcome: RFQ {status}, our quote {mine} ({cqid})"
        case events.Filled(side=side, price=price):
            return f"filled: we {side} at {price} EUR/MWh"
        case events.OutcomeResolved(client_quote_id=cqid, found=found):
            return f"unanswered submit {cqid} resolved: found {found or 'nothing'}"
        case events.KillChanged(state=state, kills=kills):
            return f"kill switch now {state}: {', '.join(kills) or 'no kills'}"
        case events.StrategySwapped(by=by, source=source, old=old, new=new):
            return f"strategy swapped by {by} ({source}): {dict(old)} -> {dict(new)}"
        case events.ShadowSwapped(by=by, new=new):
            return f"shadow strategy changed by {by}: {None if new is None else dict(new)}"
        case events.ShadowPriced():
            data = {k: v for k, v in events.encode(event).items() if k != "rfq-id"}
            return "shadow strategy priced it too (never sent): " + _pairs(data)
        case events.Resumed(by=by, lifted=lifted):
            return f"resume by {by}: lifted {', '.join(lifted)}"
    return f"{event.kind}: " + _pairs(events.encode(event))


def _pairs(data: Mapping[str, object]) -> str:
    # In key order, as the trail's canonical lines hold them.
    return ", ".join(f"{k}={v}" for k, v in sorted(data.items()))


def _received(q: events.RfqFields) -> str:
    side = q.action or "two-way"
    return (
        f"received RFQ {q.short_id}: requester wants to {side} {q.quantity_mw} MW "
        f"{q.commodity} {q.market_area} {q.load} {q.label} "
        f"({stamp_text(q.start)} .. {stamp_text(q.end)}), "
        f"quotes until {stamp_text(q.deadline)}, "
        f"requester {q.requester}"
    )


def _priced(
    d: events.DecisionFields | events.Absent,
    strategy: str,
    age: float | events.Absent,
) -> list[str]:
    if not isinstance(d, events.DecisionFields):
        return []
    price = f"price {d.price}" if d.price is not None else f"bid {d.bid} / ask {d.ask}"
    parts = ", ".join(f"{k} {v}" for k, v in d.components.items())
    age_text = "" if isinstance(age, events.Absent) else f", {age:.0f} s old"
    notes = d.notes if isinstance(d.notes, Mapping) else {}
    return [
        f"priced by {strategy}: mid {d.mid}, {price} (side {d.side})",
        f"components: {parts or 'none'}; {d.delivery_hours} h, {d.energy_mwh} MWh",
        f"curve {d.curve_id} as of {stamp_text(d.curve_as_of)}{age_text}",
        *(["why: " + ", ".join(f"{k} {v}" for k, v in notes.items())] if notes else []),
    ]


def _strategy(
    name: str,
    version: str | events.Absent | None,
    params: Mapping[str, object] | events.Absent,
    extra: Mapping[str, object],
) -> str:
    text = f"strategy {name}"
    if isinstance(version, str):
        text += f" version {version}"
    # Trails before `params` held them as `strategy-params`.
    shown = extra.get("strategy-params", params)
    if isinstance(shown, Mapping) and shown:
        text += " (" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"
    return text


def _checks(checks: tuple[events.CheckFields, ...] | events.Absent) -> list[str]:
    return [
        f"risk check {c.code}: {'passed' if c.passed else 'FAILED'}"
        + (f" ({c.detail})" if c.detail else "")
        for c in (checks if isinstance(checks, tuple) else ())
    ]


def _intent(r: events.QuoteIntent, requote: bool) -> str:
    verb = "requoting" if requote else "quoting"
    sent = f"{verb}: sending {r.client_quote_id}, valid until {stamp_text(r.valid_until)}"
    strategy = _strategy(r.strategy, r.strategy_version, r.params, r.extra)
    return "\n".join([*_priced(r.decision, strategy, r.curve_age_s), *_checks(r.checks), sent])


def _declined(r: events.QuoteDeclined) -> str:
    said = f"declined: {r.reason}" + (f" ({r.detail})" if r.detail else "")
    strategy = _strategy(r.strategy, r.strategy_version, r.params, r.extra)
    priced = _priced(r.decision, strategy, r.curve_age_s)
    lines = [*priced, *_checks(r.checks), said]
    if not priced and r.strategy:
        lines.insert(0, f"{strategy} in charge")
    return "\n".join(lines)
