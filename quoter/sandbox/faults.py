"""Faults queued by the controls and spent by matching public requests: gateway errors, added
latency, 429 storms, revoked tokens, malformed RFQs in lists, quotes stored but answered 504,
quotes answered 504 and stored only seconds later, quotes refused as invalid, quotes stored but
answered with a field missing, bodies that are not JSON, and token answers whose expires-at
lies (the token itself keeps its real expiry)."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from quoter.sandbox import jsonfields as fields
from quoter.sandbox.wire import Json

MAX_QUEUED = 100
MAX_COUNT = 100_000
MAX_LATENCY_S = 120.0
GATEWAY_MESSAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Endpoint request timed out",
}
FAULT_KEYS = frozenset(
    {
        "kind",
        "count",
        "path",
        "method",
        "status",
        "latency-s",
        "store-after-s",
        "retry-after",
        "expires-in-s",
    }
)
MAX_EXPIRES_IN_S = 400 * 86400.0
MAX_RETRY_AFTER_CHARS = 100


class FaultKind(StrEnum):
    STATUS = "status"
    LATENCY = "latency"
    RATE_LIMIT = "rate-limit"
    REVOKE_TOKENS = "revoke-tokens"
    MALFORMED_RFQ = "malformed-rfq"
    QUOTE_504 = "quote-504"
    QUOTE_504_LATE = "quote-504-late"  # answered 504 at once, stored `store-after-s` later
    INVALID_QUOTE = "invalid-quote"  # a quote refused 422 INVALID_QUOTE, whatever it holds
    MALFORMED_QUOTE = "malformed-quote"  # a quote stored, its 2xx answer without valid-until
    INVALID_JSON = "invalid-json"
    TOKEN_EXPIRY = "token-expiry"  # an /authenticate answer says expires-at = now + expires-in-s


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    remaining: int
    path: str | None = None
    method: str | None = None
    status: int = 503
    latency_s: float = 0.0
    store_after_s: float = 0.0
    retry_after: str | None = None  # a rate-limit's Retry-After header, sent as given
    expires_in_s: float = 0.0  # a token-expiry's expires-at from issue; negative: in the past

    def matches(self, method: str, path: str) -> bool:
        """`path` is the request's path with its query: a fault's `path` may name either part
        (`/rfqs`, `skip=100`)."""
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )

    def as_json(self) -> Json:
        return {
            "kind": self.kind.value,
            "count": self.remaining,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "latency-s": self.latency_s,
            "store-after-s": self.store_after_s,
            "retry-after": self.retry_after,
            "expires-in-s": self.expires_in_s,
        }


def parse_fault(raw: object) -> Fault:
    body = fields.obj(raw, "the fault", FAULT_KEYS)
    kind = FaultKind(fields.choice(body.get("kind"), "kind", [k.value for k in FaultKind]))
    count = fields.integer(body.get("count", 1), "count", 1, MAX_COUNT)
    path = body.get("path")
    method = body.get("method")
    status = 503
    if kind is FaultKind.STATUS:
        status = fields.integer(body.get("status"), "status", 500, 504)
        if status not in GATEWAY_MESSAGES:
            raise fields.FieldError("status must be 500, 502, 503 or 504")
    latency_s = 0.0
    if kind is FaultKind.LATENCY:
        latency_s = fields.number(body.get("latency-s"), "latency-s")
        if not 0 < latency_s <= MAX_LATENCY_S:
            raise fields.FieldError(f"latency-s must be within (0, {MAX_LATENCY_S:g}]")
    store_after_s = 0.0
    if kind is FaultKind.QUOTE_504_LATE:
        store_after_s = fields.number(body.get("store-after-s"), "store-after-s")
        if not 0 < store_after_s <= MAX_LATENCY_S:
            raise fields.FieldError(f"store-after-s must be within (0, {MAX_LATENCY_S:g}]")
    expires_in_s = 0.0
    if kind is FaultKind.TOKEN_EXPIRY:
        expires_in_s = fields.number(body.get("expires-in-s"), "expires-in-s")
        if not abs(expires_in_s) <= MAX_EXPIRES_IN_S:
            raise fields.FieldError(f"expires-in-s must be within ±{MAX_EXPIRES_IN_S:g}")
    retry_after = None
    if kind is FaultKind.RATE_LIMIT and "retry-after" in body:
        retry_after = _header_value(body["retry-after"], "retry-after")
    return Fault(
        kind=kind,
        remaining=count,
        path=None if path is None else fields.text(path, "path"),
        method=None if method is None else fields.text(method, "method", 10).upper(),
        status=status,
        latency_s=latency_s,
        store_after_s=store_after_s,
        retry_after=retry_after,
        expires_in_s=expires_in_s,
    )


def _header_value(value: object, where: str) -> str:
    """A header to send as given, garbage included (a test's point), but one line of text."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    text = fields.text(value, where, MAX_RETRY_AFTER_CHARS)
    if not (text.isascii() and text.isprintable()):
        raise fields.FieldError(f"{where} must be printable ASCII")
    return text


@dataclass(frozen=True, slots=True)
class LateStore:
    """A quote body the gateway answered 504 for, to be stored at `due` (sandbox time)."""

    due: datetime
    rfq_id: str
    body: object


class Faults:
    """The queue, in the order faults were added; the first match of a kind is spent first."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._late: list[LateStore] = []
        self.injected: Counter[str] = Counter()

    def store_later(self, fault: Fault, rfq_id: str, body: object, now: datetime) -> None:
        due = now + timedelta(seconds=fault.store_after_s)
        self._late.append(LateStore(due, rfq_id, body))

    def due_stores(self, now: datetime) -> list[LateStore]:
        """The late stores whose time has come, taken out of the queue, oldest first."""
        due = [s for s in self._late if s.due <= now]
        if due:
            self._late = [s for s in self._late if s.due > now]
        return due

    def add(self, fault: Fault) -> None:
        if len(self._queue) >= MAX_QUEUED:
            raise fields.FieldError(f"at most {MAX_QUEUED} faults may be queued")
        self._queue.append(fault)

    def clear(self) -> None:
        self._queue.clear()

    def pending(self) -> list[Json]:
        return [fault.as_json() for fault in self._queue]

    def take(self, kinds: frozenset[FaultKind], method: str, path: str) -> Fault | None:
        """Spend one occurrence of the first queued fault of `kinds` matching the request."""
        for index, fault in enumerate(self._queue):
            if fault.kind in kinds and fault.matches(method, path):
                if fault.remaining > 1:
                    self._queue[index] = replace(fault, remaining=fault.remaining - 1)
                else:
                    del self._queue[index]
                self.injected[fault.kind.value] += 1
                return fault
        return None


def _set(item: Json, path: tuple[str, ...], value: object) -> None:
    node: object = item
    for key in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value


def malform(item: Json, variant: int) -> Json:
    """A copy of a wire RFQ broken one way, chosen by `variant`."""
    broken = copy.deepcopy(item)
    broken["id"] = f"malformed-{variant}"
    match variant % 5:
        case 0:
            del broken["quote-deadline"]
        case 1:
            _set(broken, ("quantity", "amount", "value"), "NaN")
        case 2:
            broken["status"] = "pending-approval"
        case 3:
            _set(broken, ("quantity", "amount", "value"), -10)
        case _:
            _set(broken, ("instrument", "maturity", "start"), "not-a-date")
    return broken
