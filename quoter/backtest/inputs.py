"""What a backtest was given, stated as its report and summary state it: the tape (its RFQs,
window and refused rows), curves, desk configuration, trading hours, fill model, seed, version
and when it ran; and the notes that say why a run quoted less than its tape held."""

from __future__ import annotations

import hashlib
import numbers
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quoter.backtest.fills import DEFAULT_LOGISTIC
from quoter.backtest.tape import Tape, TapeProblem
from quoter.engine.hours import TradingHoursConfig

FIRST_REFUSED = 5  # refused rows shown one by one; the rest are counted by field
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEMO_LIMITS = "demo limits (quoter.risk.config.DEMO_RISK, sized for a day in the sandbox)"


@dataclass(frozen=True, slots=True)
class Inputs:
    tape: str
    rfqs: int
    start: datetime  # the first arrival
    end: datetime  # the last deadline
    refused: tuple[TapeProblem, ...]
    curves: str
    desk: str
    hours: str
    fill: str
    seed: int
    version: str
    ran_at: datetime

    def items(self) -> list[tuple[str, str]]:
        """(what, value) lines, as the report's inputs block and the summary print them."""
        rows = f"{self.rfqs:,} RFQs"
        if self.refused:
            rows += f" ({len(self.refused):,} more rows refused: see below)"
        return [
            ("tape", self.tape),
            ("RFQs", rows),
            ("window", f"{_instant(self.start)} to {_instant(self.end)}"),
            ("curves", self.curves),
            ("desk", self.desk),
            ("trading hours", self.hours),
            ("fill model", self.fill),
            ("seed", str(self.seed)),
            ("quoter", self.version),
            ("ran at", _instant(self.ran_at)),
        ]


def inputs_of(
    tape_path: Path,
    tape: Tape,
    *,
    curves: Path | None,
    desk: Path | None,
    hours: TradingHoursConfig,
    fill: str,
    logistic: tuple[float, float] | None,
    seed: int,
    version: str,
    ran_at: datetime,
) -> Inputs:
    return Inputs(
        tape=str(tape_path),
        rfqs=len(tape),
        start=tape.start,
        end=tape.end,
        refused=tape.problems,
        curves="synthetic (re-marked each day by a seeded random walk)"
        if curves is None
        else str(curves),
        desk=DEMO_LIMITS if desk is None else f"{desk} (sha256 {_digest(desk)})",
        hours=describe_hours(hours),
        fill=describe_fill(fill, logistic),
        seed=seed,
        version=version,
        ran_at=ran_at,
    )


def describe_hours(hours: TradingHoursConfig) -> str:
    """E.g. `Mon–Fri 08:00–18:00 Europe/Berlin, public holidays closed`."""
    days = sorted(hours.weekdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        weekdays = f"{WEEKDAYS[days[0]]}–{WEEKDAYS[days[-1]]}"
    else:
        weekdays = ", ".join(WEEKDAYS[d] for d in days)
    if hours.all_day:
        session = "all day"
    else:
        session = f"{hours.open_local:%H:%M}–{hours.close_local:%H:%M} Europe/Berlin"
    holidays = ", public holidays closed" if hours.observe_holidays else ""
    return f"{weekdays} {session}{holidays}"


def describe_fill(fill: str, logistic: tuple[float, float] | None) -> str:
    if fill == "auction":
        return "auction: won when our price beats the best competing price and the limit"
    a, b = logistic or DEFAULT_LOGISTIC
    given = "given" if logistic else "default, fills.DEFAULT_LOGISTIC"
    return f"logistic: a={a:g}, b={b:g} ({given})"


def refused_lines(problems: tuple[TapeProblem, ...]) -> list[str]:
    """How many rows were refused, by field, and the first few with file, row and field."""
    if not problems:
        return []
    fields = Counter(p.field for p in problems)
    by_field = ", ".join(f"{name} {n:,}" for name, n in fields.most_common())
    lines = [f"{len(problems):,} tape rows refused and skipped, by field: {by_field}"]
    lines += [f"  {p}" for p in problems[:FIRST_REFUSED]]
    if len(problems) > FIRST_REFUSED:
        lines.append(f"  ... and {len(problems) - FIRST_REFUSED:,} more")
    return lines


def run_notes(row: Mapping[str, object], hours: str) -> list[str]:
    """Why a run's RFQs were not quoted, where the summary's counts alone do not say it."""
    rfqs, quoted = _int(row, "rfqs"), _int(row, "quoted")
    closed, unseen = _int(row, "outside_hours"), _int(row, "not_seen")
    notes = []
    if closed:
        share = f"all {rfqs:,}" if closed == rfqs else f"{closed:,} of {rfqs:,}"
        notes.append(
            f"{share} RFQs arrived outside trading hours ({hours}) and ended before the market "
            "opened: the engine does not poll while closed. Replay with a --config whose "
            "[engine.hours] covers them, e.g. all_day = true"
        )
    if unseen:
        verb = "was" if unseen == 1 else "were"
        notes.append(f"{_rfqs(unseen)} ended or {verb} withdrawn before a poll read it")
    refused = row.get("curves_refused")
    if isinstance(refused, str) and refused:
        series = refused.split(" | ")
        notes.append(
            f"{len(series):,} curve series refused, their RFQs declined no-curve: "
            + "; ".join(series)
        )
    killed = row.get("killed_by")
    if isinstance(killed, str) and killed:
        notes.append(f"killed (still latched at the end): {killed}")
    declined = _int(row, "declined")
    if rfqs and not quoted and declined:
        reasons = sorted(
            ((k.removeprefix("declined:"), _int(row, k)) for k in row if k.startswith("declined:")),
            key=lambda item: -item[1],
        )
        top = ", ".join(f"{r} {n:,}" for r, n in reasons[:3] if n)
        notes.append(f"nothing quoted: {declined:,} RFQs declined ({top})")
    return notes


def _rfqs(n: int) -> str:
    return f"{n:,} RFQ" if n == 1 else f"{n:,} RFQs"


def _int(row: Mapping[str, object], key: str) -> int:
    value = row.get(key, 0)
    return int(float(value)) if isinstance(value, numbers.Real) and value == value else 0  # NaN


def _instant(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
