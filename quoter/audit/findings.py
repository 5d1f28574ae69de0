"""What verifying a trail finds: the first bad record (a `Problem`: file, line, seq, why) and
the `Verification` of the whole trail, with its summary in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from quoter.audit.anchor import Anchor
from quoter.audit.chain import GENESIS
from quoter.timefmt import stamp_text


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    seq: int | None
    why: str

    def __str__(self) -> str:
        line = f":{self.line}" if self.line > 0 else ""
        seq = "" if self.seq is None else f", seq {self.seq}"
        return f"{self.file}{line}{seq}: {self.why}"


@dataclass(slots=True)
class Verification:
    """What `verify` found. `problem` is the first bad record; `current` the first in the chain
    the bot writes now (after its last recorded break), which decides how the bot starts. A
    torn last line of the newest file (a crash mid-write) is `torn`, not a problem."""

    files: int = 0
    records: int = 0
    keyed: int = 0
    legacy: int = 0
    first_seq: int = 0
    first_keyed: int | None = None
    first_at: str | None = None  # the earliest record's time: runs' clocks need not follow seq
    last_at: str | None = None  # the latest
    runs: int = 0  # start records
    last_seq: int = 0
    max_seq: int = 0  # the highest seq of any record read, good or bad: never to be reused
    unreadable: int = 0  # lines that are no record: their seqs, unknown, may be beyond max_seq
    head: str = GENESIS
    problem: Problem | None = None
    current: Problem | None = None
    breaks: list[Problem] = field(default_factory=list)
    anchor: Anchor | None = None
    torn: Problem | None = None
    # The first record only the audit key can check (given none): the verdict is not BROKEN
    # but "not verified", as a record sealed under a key and an edited one look alike without it.
    needs_key: Problem | None = None
    notes: list[str] = field(default_factory=list)

    def see_time(self, at: str) -> None:
        """Widen the span of record times to `at` (an ISO time with its offset)."""
        when = datetime.fromisoformat(at)
        if self.first_at is None or when < datetime.fromisoformat(self.first_at):
            self.first_at = at
        if self.last_at is None or when > datetime.fromisoformat(self.last_at):
            self.last_at = at

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def found_nothing(self) -> bool:
        """No record at all, and nothing (an anchor, a head) saying there were any: no trail
        here to call intact."""
        return self.intact and self.records == 0

    @property
    def unkeyed(self) -> bool:
        """Intact, but every record a plain SHA-256 seal: proof against accidents only."""
        return self.intact and self.records > 0 and self.keyed == 0

    def summary(self) -> str:
        lines = [self._verdict()]
        lines.extend(f"the bot started a new chain at {b}" for b in self.breaks)
        if self.problem is not None and self.breaks and self.current is None:
            lines.append(f"the new chain verifies: seq {self.first_seq}..{self.last_seq}")
        if self.torn is not None:
            lines.append(f"torn tail at {self.torn}; the trail verifies up to seq {self.last_seq}")
        lines.extend(self.notes)
        return "\n".join(lines)

    def _verdict(self) -> str:
        if self.needs_key is not None:
            return (
                f"NOT VERIFIED: no audit key to check {self.needs_key}\n"
                f"checked before it: {self.records} records, up to seq {self.last_seq}"
            )
        if self.found_nothing:
            where = f"no records in its {self.files} files" if self.files else "no day files"
            return f"NO AUDIT TRAIL found: {where} (audit-YYYY-MM-DD.jsonl); nothing verified"
        if self.problem is not None:
            return (
                f"BROKEN at {self.problem}\n"
                f"intact before it: {self.records} records, up to seq {self.last_seq}"
            )
        span = (
            f"{self.records} records in {self.files} files, seq {self.first_seq}..{self.last_seq}, "
            f"{self.runs} runs, record times {stamp_text(self.first_at)} .. "
            f"{stamp_text(self.last_at)} (the bots' clocks)\nhead {self.head}"
        )
        if self.unkeyed:
            return (
                f"linked, but LEGACY, UNKEYED (plain SHA-256: anyone can rewrite it "
                f"consistently; not proof of anything): {span}"
            )
        anchored = "" if self.anchor is None else f"; anchor at seq {self.anchor.seq} reached"
        legacy = (
            f" ({self.legacy} legacy, unkeyed records first: plain SHA-256, proof against "
            "accidents only)"
            if self.legacy
            else ""
        )
        return f"intact, keyed{anchored}{legacy}: {span}"


def fail(result: Verification, problem: Problem) -> None:
    """The first problem found, and the first in the chain the bot writes now."""
    if result.problem is None:
        result.problem = problem
    if result.current is None:
        result.current = problem
