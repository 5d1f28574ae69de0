"""What the engine records, as frozen types, and the one codec to and from the trail's JSON.

Writers build an event and hand it to the audit port (`Recorder.write`); the JSON-lines trail
`encode`s it into the record's data there, once (and adds `seq`, `at`, `kind`, `prev` and
`hash`, and seals the canonical, key-sorted bytes, so the JSON is exactly what it was when
records were built as dicts); readers `decode` a record back. A record of a kind
named here that does not hold what the kind promises is refused with an `EventError` naming the
field; a kind not named here (an older or a newer writer's) decodes to `Unknown`, and keys a kind
does not name are kept in `extra`, so any trail still reads and re-encodes to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from quoter.audit.chain import RESERVED
from quoter.audit.codec import (
    ABSENT,
    BOOL,
    INT,
    NUMBER,
    OBJECT,
    TEXT,
    Absent,
    EventError,
    dump_fields,
    extra,
    key,
    load_fields,
    many,
    nested,
    optional,
)

CHAIN_FIELDS = RESERVED  # what the chain adds beside a record's data
OPT_TEXT, OPT_NUMBER = optional(TEXT), optional(NUMBER)
TEXTS = many(TEXT)
Json = Mapping[str, Any]

__all__ = [
    "ABSENT",
    "Absent",
    "Event",
    "EventError",
    "Logged",
    "Unknown",
    "decode",
    "encode",
]


# -- parts of records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqFields:
    """An RFQ as the trail shows it when first seen."""

    id: str = key("id", TEXT)
    short_id: str = key("short-id", TEXT)
    status: str = key("status", TEXT)
    action: str | None = key("action", OPT_TEXT)
    quote_type: str = key("quote-type", TEXT)
    deadline: str = key("deadline", TEXT)
    requester: str = key("requester", TEXT)
    commodity: str = key("commodity", TEXT)
    market_area: str = key("market-area", TEXT)
    load: str = key("load", TEXT)
    product: str = key("product", TEXT)
    label: str = key("label", TEXT)
    start: str = key("start", TEXT)
    end: str = key("end", TEXT)
    quantity_mw: float = key("quantity-mw", NUMBER)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionFields:
    """A strategy's quote decision: its side, mid, prices, their parts and the delivery."""

    side: str | None = key("side", OPT_TEXT)
    mid: float = key("mid", NUMBER)
    price: float | None = key("price", OPT_NUMBER)
    bid: float | None = key("bid", OPT_NUMBER)
    ask: float | None = key("ask", OPT_NUMBER)
    components: Json = key("components", OBJECT)
    delivery_hours: float = key("delivery-hours", NUMBER)
    energy_mwh: float = key("energy-mwh", NUMBER)
    curve_id: str = key("curve-id", TEXT)
    curve_as_of: str = key("curve-as-of", TEXT)
    notes: Json | Absent = key("notes", OBJECT, omitted=True)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFields:
    """One risk check's result."""

    code: str = key("code", TEXT)
    passed: bool = key("passed", BOOL)
    detail: str = key("detail", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class SentFields:
    """The prices a quote sends."""

    price: float | None = key("price", OPT_NUMBER)
    bid: float | None = key("bid", OPT_NUMBER)
    ask: float | None = key("ask", OPT_NUMBER)
    requote: bool = key("requote", BOOL)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeSummary:
    """A decision in brief, as the shadow record shows the live one."""

    decision: str = key("decision", TEXT)  # quote | decline
    side: str | Absent | None = key("side", OPT_TEXT, omitted=True)
    price: float | Absent | None = key("price", OPT_NUMBER, omitted=True)
    bid: float | Absent | None = key("bid", OPT_NUMBER, omitted=True)
    ask: float | Absent | None = key("ask", OPT_NUMBER, omitted=True)
    reason: str | Absent = key("reason", TEXT, omitted=True)
    detail: str | Absent = key("detail", TEXT, omitted=True)
    extra: Json = extra()


CHECKS = many(nested(CheckFields))


# -- the events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    kind: ClassVar[str] = "start"
    run_id: str = key("run-id", TEXT)
    clock: str | Absent = key("clock", TEXT, omitted=True)
    config: str | Absent = key("config", TEXT, omitted=True)
    speed: float | Absent = key("speed", NUMBER, omitted=True)
    seed: int | Absent | None = key("seed", optional(INT), omitted=True)
    by: str = key("by", TEXT)
    limits: Json = key("limits", OBJECT)
    engine: Json = key("engine", OBJECT)
    strategy: str = key("strategy", TEXT)
    params: Json = key("params", OBJECT)
    kill_switch: str = key("kill-switch", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRetried:
    kind: ClassVar[str] = "start-retry"
    error: str = key("error", TEXT)
    retry_in_s: float = key("retry-in-s", NUMBER)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCutShort:
    kind: ClassVar[str] = "start-cut-short"
    read: int = key("read", INT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciled:
    kind: ClassVar[str] = "reconciled"
    found_live: int = key("found-live", INT)
    adopted: int = key("adopted", INT)
    policy: str = key("policy", TEXT)
    refused: Json = key("refused", OBJECT)  # RFQ id: the limits its quote is beyond
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsLoaded:
    kind: ClassVar[str] = "positions-loaded"
    trades: int = key("trades", INT)
    skipped: tuple[str, ...] = key("skipped", TEXTS)
    unreadable: tuple[str, ...] | Absent = key("unreadable", TEXTS, omitted=True)
    since: str = key("since", TEXT)
    credit_used_eur: Json = key("credit-used-eur", OBJECT)
    beyond_limit: tuple[str, ...] = key("beyond-limit", TEXTS)
    complete: bool = key("complete", BOOL)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqSeen:
    kind: ClassVar[str] = "rfq"
    rfq: RfqFields = key("rfq", nested(RfqFields))
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqRefused:
    """A venue item refused as malformed."""

    kind: ClassVar[str] = "rfq-refused"
    index: int = key("index", INT)
    rfq_id: str | None = key("rfq-id", OPT_TEXT)
    reason: str = key("reason", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqReopened:
    """An RFQ the venue had listed ended (`ended`), listed open again: refused, never quoted."""

    kind: ClassVar[str] = "rfq-reopened"
    rfq_id: str = key("rfq-id", TEXT)
    ended: str = key("ended", TEXT)
    updated_at: str = key("updated-at", TEXT)
    reason: str = key("reason", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class BadAnswer:
    """A venue answer refused whole as not the contract's: the call, the field (None: the body
    as a whole, not JSON) and the error as the desk sees it."""

    kind: ClassVar[str] = "bad-answer"
    endpoint: str = key("endpoint", TEXT)
    field: str | None = key("field", OPT_TEXT)
    error: str = key("error", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteIntent:
    """The quote about to be sent, with all that made it; durable before it goes."""

    kind: ClassVar[str] = "quote-intent"
    rfq_id: str = key("rfq-id", TEXT)
    client_quote_id: str = key("client-quote-id", TEXT)
    strategy: str = key("strategy", TEXT)
    params: Json = key("params", OBJECT)
    strategy_version: str | None = key("strategy-version", OPT_TEXT)
    curve_age_s: float = key("curve-age-s", NUMBER)
    decision: DecisionFields = key("decision", nested(DecisionFields))
    checks: tuple[CheckFields, ...] = key("checks", CHECKS)
    sent: SentFields = key("sent", nested(SentFields))
    valid_until: str = key("valid-until", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteDeclined:
    """Not quoted, and why; what was priced and checked before, where it got that far."""

    kind: ClassVar[str] = "decline"
    rfq_id: str = key("rfq-id", TEXT)
    reason: str = key("reason", TEXT)
    detail: str = key("detail", TEXT)
    strategy: str = key("strategy", TEXT)
    params: Json | Absent = key("params", OBJECT, omitted=True)
    strategy_version: str | Absent | None = key("strategy-version", OPT_TEXT, omitted=True)
    curve_age_s: float | Absent = key("curve-age-s", NUMBER, omitted=True)
    decision: DecisionFields | Absent = key("decision", nested(DecisionFields), omitted=True)
    checks: tuple[CheckFields, ...] | Absent = key("checks", CHECKS, omitted=True)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteAnswered:
    """The venue's answer to a submit: accepted (with its quote id), refused, or unknown."""

    kind: ClassVar[str] = "quote-answer"
    rfq_id: str = key("rfq-id", TEXT)
    client_quote_id: str = key("client-quote-id", TEXT)
    answer: str = key("answer", TEXT)
    quote_id: str | Absent = key("quote_id", TEXT, omitted=True)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    kind: ClassVar[str] = "outcome"
    rfq_id: str = key("rfq-id", TEXT)
    status: str = key("status", TEXT)
    my_quote_status: str = key("my-quote-status", TEXT)
    client_quote_id: str = key("client-quote-id", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeResolved:
    """A submit whose answer was unknown, found at the venue (or not: None)."""

    kind: ClassVar[str] = "outcome-resolved"
    rfq_id: str = key("rfq-id", TEXT)
    client_quote_id: str = key("client-quote-id", TEXT)
    found: str | None = key("found", OPT_TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class Filled:
    kind: ClassVar[str] = "fill"
    rfq_id: str = key("rfq-id", TEXT)
    side: str = key("side", TEXT)
    price: float = key("price", NUMBER)
    client_quote_id: str = key("client-quote-id", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeCaptureFailed:
    kind: ClassVar[str] = "trade-capture-failed"
    rfq_id: str = key("rfq-id", TEXT)
    error: str = key("error", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteWithdrawal:
    kind: ClassVar[str] = "withdrawal"
    rfq_id: str = key("rfq-id", TEXT)
    why: str = key("why", TEXT)
    result: str = key("result", TEXT)
    quote_id: str | Absent = key("quote-id", TEXT, omitted=True)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawalPass:
    kind: ClassVar[str] = "withdrawal-pass"
    why: str = key("why", TEXT)
    by_id: int = key("by-id", INT)
    swept: int = key("swept", INT)
    not_active: int = key("not-active", INT)
    left: int = key("left", INT)
    complete: bool = key("complete", BOOL)
    possibly_live: int = key("possibly-live", INT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class StopWithdrawal:
    """The stop's withdrawal as it ended: how long it took from the stop, within which window,
    and the RFQs whose quote may still be live (none if clean)."""

    kind: ClassVar[str] = "stop-withdrawal"
    why: str = key("why", TEXT)
    elapsed_s: float = key("elapsed-s", NUMBER)
    timeout_s: float = key("timeout-s", NUMBER)
    clean: bool = key("clean", BOOL)
    result: str = key("result", TEXT)
    possibly_live: tuple[str, ...] = key("possibly-live", TEXTS)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class KillChanged:
    """The kill switch latched or lifted: its state and the kills in force."""

    kind: ClassVar[str] = "kill-switch"
    state: str = key("state", TEXT)
    kills: tuple[str, ...] = key("kills", TEXTS)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed:
    kind: ClassVar[str] = "resume"
    by: str = key("by", TEXT)
    lifted: tuple[str, ...] = key("lifted", TEXTS)
    ids: tuple[int, ...] = key("ids", many(INT))
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySwapped:
    kind: ClassVar[str] = "strategy-swap"
    by: str = key("by", TEXT)
    source: str = key("source", TEXT)
    old: Json = key("old", OBJECT)
    new: Json = key("new", OBJECT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySwapRefused:
    kind: ClassVar[str] = "strategy-swap-refused"
    by: str = key("by", TEXT)
    source: str = key("source", TEXT)
    name: str = key("name", TEXT)
    error: str = key("error", TEXT)
    kept: str = key("kept", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowSwapped:
    kind: ClassVar[str] = "shadow-swap"
    by: str = key("by", TEXT)
    source: str = key("source", TEXT)
    old: Json | None = key("old", optional(OBJECT))
    new: Json | None = key("new", optional(OBJECT))
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowPriced:
    """The shadow strategy's decision beside the live one's (never sent)."""

    kind: ClassVar[str] = "shadow"
    rfq_id: str = key("rfq-id", TEXT)
    strategy: str = key("strategy", TEXT)
    params: Json = key("params", OBJECT)
    live_strategy: str = key("live-strategy", TEXT)
    decision: str = key("decision", TEXT)  # quote | decline
    side: str | Absent | None = key("side", OPT_TEXT, omitted=True)
    price: float | Absent | None = key("price", OPT_NUMBER, omitted=True)
    bid: float | Absent | None = key("bid", OPT_NUMBER, omitted=True)
    ask: float | Absent | None = key("ask", OPT_NUMBER, omitted=True)
    reason: str | Absent = key("reason", TEXT, omitted=True)
    detail: str | Absent = key("detail", TEXT, omitted=True)
    live: OutcomeSummary = key("live", nested(OutcomeSummary))
    differs: str = key("differs", TEXT)
    difference_eur_mwh: float | None = key("difference-eur-mwh", OPT_NUMBER)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockSkewed:
    kind: ClassVar[str] = "clock-skew"
    offset_s: float = key("offset-s", NUMBER)
    detail: str = key("detail", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveRefused:
    kind: ClassVar[str] = "curve-refused"
    reason: str = key("reason", TEXT)
    file: str = key("file", TEXT)
    row: int | None = key("row", optional(INT))
    column: str | None = key("column", OPT_TEXT)
    series: str | None = key("series", OPT_TEXT)
    message: str = key("message", TEXT)
    kept_last_good: bool = key("kept-last-good", BOOL)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminCall:
    kind: ClassVar[str] = "admin"
    method: str = key("method", TEXT)
    path: str = key("path", TEXT)
    who: str = key("who", TEXT)
    outcome: int = key("outcome", INT)
    remote: str | None = key("remote", OPT_TEXT)
    detail: Json | Absent = key("detail", OBJECT, omitted=True)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminRefused:
    """Refused admin calls, summed up over a while."""

    kind: ClassVar[str] = "admin-refused"
    refused: Json = key("refused", OBJECT)
    since: str = key("from", TEXT)
    until: str = key("to", TEXT)
    who: tuple[str, ...] = key("who", TEXTS)
    remotes: tuple[str, ...] = key("remotes", TEXTS)
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainBroke:
    """The trail's chain did not verify at start; a new one begins here."""

    kind: ClassVar[str] = "audit-chain-break"
    why: str = key("why", TEXT)
    file: str | None = key("file", OPT_TEXT)
    line: int | None = key("line", optional(INT))
    broken_seq: int | None = key("broken-seq", optional(INT))
    last_seq_read: int = key("last-seq-read", INT)
    anchor_seq: int | None = key("anchor-seq", optional(INT))
    extra: Json = extra()


@dataclass(frozen=True, slots=True, kw_only=True)
class TornTailSetAside:
    kind: ClassVar[str] = "audit-torn-tail"
    file: str = key("file", TEXT)
    line: int = key("line", INT)
    size_bytes: int = key("bytes", INT)
    sha256: str = key("sha256", TEXT)
    set_aside_to: str = key("set-aside-to", TEXT)
    extra: Json = extra()


@dataclass(frozen=True, slots=True)
class Unknown:
    """A record of a kind this codec does not name: its data as read."""

    kind: str
    data: Json


EVENTS: tuple[type[Any], ...] = (
    Started,
    StartRetried,
    StartCutShort,
    Reconciled,
    PositionsLoaded,
    RfqSeen,
    RfqRefused,
    RfqReopened,
    BadAnswer,
    QuoteIntent,
    QuoteDeclined,
    QuoteAnswered,
    Outcome,
    OutcomeResolved,
    Filled,
    TradeCaptureFailed,
    QuoteWithdrawal,
    WithdrawalPass,
    StopWithdrawal,
    KillChanged,
    Resumed,
    StrategySwapped,
    StrategySwapRefused,
    ShadowSwapped,
    ShadowPriced,
    ClockSkewed,
    CurveRefused,
    AdminCall,
    AdminRefused,
    ChainBroke,
    TornTailSetAside,
)
BY_KIND: dict[str, type[Any]] = {cls.kind: cls for cls in EVENTS}

Event = (
    Started
    | StartRetried
    | StartCutShort
    | Reconciled
    | PositionsLoaded
    | RfqSeen
    | RfqRefused
    | RfqReopened
    | BadAnswer
    | QuoteIntent
    | QuoteDeclined
    | QuoteAnswered
    | Outcome
    | OutcomeResolved
    | Filled
    | TradeCaptureFailed
    | QuoteWithdrawal
    | WithdrawalPass
    | StopWithdrawal
    | KillChanged
    | Resumed
    | StrategySwapped
    | StrategySwapRefused
    | ShadowSwapped
    | ShadowPriced
    | ClockSkewed
    | CurveRefused
    | AdminCall
    | AdminRefused
    | ChainBroke
    | TornTailSetAside
)


class Recorder(Protocol):
    """Where events go: the audit port (`quoter.audit.trail.Audit`). The JSON-lines trail
    encodes each event there, once; a replay keeps the events it needs as they are."""

    def write(self, event: Event | Unknown, at: datetime, *, durable: bool = False) -> None: ...


def encode(event: Event | Unknown) -> dict[str, object]:
    """The record's data (no chain fields): what the trail seals beside seq, at, kind, prev."""
    if isinstance(event, Unknown):
        return dict(event.data)
    return dump_fields(event)


def decode(record: Mapping[str, object]) -> Event | Unknown:
    """The event a record holds (chain fields, if there, are left aside); EventError if a
    record of a known kind does not hold what it should, naming the field."""
    kind = record.get("kind")
    if not isinstance(kind, str):
        raise EventError(f"record{_seq(record)}: kind: expected a string, found {kind!r}")
    data = {k: v for k, v in record.items() if k not in CHAIN_FIELDS}
    cls = BY_KIND.get(kind)
    if cls is None:
        return Unknown(kind, data)
    decoded: Event = load_fields(cls, data, f"{kind} record{_seq(record)}")
    return decoded


@dataclass(frozen=True, slots=True)
class Logged:
    """An event with its place on the trail."""

    seq: int
    at: str
    event: Event | Unknown


def read(records: Iterable[Mapping[str, Any]]) -> Iterator[Logged]:
    """Each record of a trail (as `chain.read_lines` gives them) decoded, in order."""
    for record in records:
        yield Logged(int(record["seq"]), str(record["at"]), decode(record))


def _seq(record: Mapping[str, object]) -> str:
    seq = record.get("seq")
    return f" (seq {seq})" if isinstance(seq, int) else ""
