"""Curve problems made loud: each load's refusals, and each series an allowed area needs but
has no usable curve for, are logged (error), audited (`curve-refused`) and counted by reason
the moment the engine sees the load; `curve_health` is what status and metrics show of them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from quoter.audit import events
from quoter.clock import Clock
from quoter.domain.market import Commodity
from quoter.engine.audit import Audit, AuditError
from quoter.engine.halt import Halt
from quoter.engine.state import Curves
from quoter.engine.stats import EngineStats
from quoter.pricing.curve import CurveSet, SeriesKey
from quoter.pricing.curve_checks import expected_series
from quoter.pricing.curve_files import CurveProblem, RefusalReason
from quoter.risk.config import RiskConfig

log = logging.getLogger(__name__)


@runtime_checkable
class WatchedCurves(Protocol):
    """Curves that are loaded from files: the backtest's fixed curves have no problems."""

    @property
    def current(self) -> CurveSet: ...

    @property
    def problems(self) -> tuple[CurveProblem, ...]: ...

    @property
    def generation(self) -> int: ...

    @property
    def path(self) -> Path | None: ...

    async def reloaded(self, generation: int) -> None: ...


@dataclass(frozen=True, slots=True)
class SeriesHealth:
    """One series as quoting sees it: usable (in the set, maybe an older copy) and why not."""

    usable: bool
    reasons: tuple[str, ...]  # "reason: message" of each refusal of the last load


def curve_health(
    current: CurveSet, problems: tuple[CurveProblem, ...], allowed_areas: frozenset[str]
) -> dict[SeriesKey, SeriesHealth]:
    """Every series the desk needs, has, or had refused, with what is wrong with it."""
    refused: dict[SeriesKey, list[str]] = {}
    for problem in problems:
        if problem.series is not None:
            key = _series_key(problem.series)
            if key is not None:
                refused.setdefault(key, []).append(f"{problem.reason}: {problem}")
    keys = set(current) | set(refused) | expected_series(allowed_areas)
    health = {}
    for key in sorted(keys):
        reasons = refused.get(key, [])
        if key not in current and not reasons:
            reasons = [f"{RefusalReason.MISSING}: no usable curve for {key[0]}/{key[1]}"]
        health[key] = SeriesHealth(key in current, tuple(reasons))
    return health


def missing_problems(
    current: CurveSet, problems: tuple[CurveProblem, ...], allowed_areas: frozenset[str], root: str
) -> list[CurveProblem]:
    """A problem for each series an allowed area needs that no load gave nor refused."""
    named = {p.series for p in problems if p.series is not None}
    return [
        CurveProblem(
            root,
            None,
            None,
            f"no usable curve for {commodity}/{area}: its RFQs are declined (no-curve)",
            (str(commodity), area),
            RefusalReason.MISSING,
        )
        for commodity, area in sorted(expected_series(allowed_areas))
        if (commodity, area) not in current and (str(commodity), area) not in named
    ]


class CurveReporter:
    """Reports each load of `curves` once: at the start, then whenever it reloads."""

    def __init__(
        self,
        curves: Curves,
        risk: RiskConfig,
        clock: Clock,
        audit: Audit,
        stats: EngineStats,
        halt: Halt,
    ) -> None:
        self._curves = curves
        self._risk = risk
        self._clock = clock
        self._audit = audit
        self._stats = stats
        self._halt = halt
        self._seen: tuple[int, int] | None = None  # (store, generation) last reported

    async def run(self) -> None:
        """Report each reload as it happens (no timer: a backtest's clock jumps to the next
        timer, and fixed curves never reload)."""
        while True:
            self.report()
            curves = self._curves
            if not isinstance(curves, WatchedCurves):
                return
            await curves.reloaded(curves.generation)

    def report(self) -> None:
        curves = self._curves
        if not isinstance(curves, WatchedCurves):
            return
        seen = (id(curves), curves.generation)
        if seen == self._seen:
            return
        self._seen = seen
        root = str(curves.path or "curves")
        problems = curves.problems
        missing = missing_problems(curves.current, problems, self._risk.allowed_areas, root)
        for problem in problems:
            log.error("curve refused (%s): %s", problem.reason.value, problem)
            self._refused(problem)
        if missing:
            names = ", ".join("/".join(p.series) for p in missing if p.series)
            log.error("no usable curve for %s: their RFQs are declined (no-curve)", names)
        for problem in missing:
            self._refused(problem)

    def _refused(self, problem: CurveProblem) -> None:
        self._stats.curve_refusals[problem.reason.value] += 1
        series = "/".join(problem.series) if problem.series else None
        refused = events.CurveRefused(
            reason=problem.reason.value,
            file=problem.file,
            row=problem.row,
            column=problem.column,
            series=series,
            message=problem.message,
            kept_last_good=_kept(self._curves.current, problem),
        )
        try:
            self._audit.write(refused, self._clock.now())
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")


def _kept(current: CurveSet, problem: CurveProblem) -> bool:
    """Whether an older copy of the refused series still quotes."""
    key = _series_key(problem.series) if problem.series else None
    return key is not None and key in current


def _series_key(raw: tuple[str, str]) -> SeriesKey | None:
    commodity, area = raw
    if commodity not in set(Commodity):
        return None
    return (Commodity(commodity), area)


def curve_status(curves: Curves, allowed_areas: frozenset[str]) -> dict[str, object]:
    """What `quoter status` shows of the curves: how many series quote, and each one that is
    refused or missing, with why."""
    problems = curves.problems if isinstance(curves, WatchedCurves) else ()
    health = curve_health(curves.current, problems, allowed_areas)
    unusable = [
        {"series": f"{c}/{a}", "usable": h.usable, "reasons": list(h.reasons)}
        for (c, a), h in health.items()
        if h.reasons
    ]
    files = [f"{p.reason}: {p}" for p in problems if p.series is None]
    return {"usable": sum(h.usable for h in health.values()), "problems": unusable, "files": files}
