"""The replay driver: the production engine, wired as `quoter.app.open_bot` wires it, with a
`SimVenue` and a `ManualClock`, run event to event until the tape ends.

Two things differ from `quoter run`, both because simulated time does not pass while Python
works: strategies are evaluated inline (`strategy_in_thread` off), so the live strategy timeout
cannot decline a slow strategy here; and kills and the audit trail are held in memory (the
decisions kept as compact rows).

The engine runs on a virtual-time loop (`quoter.backtest.virtual_time`): asyncio's timers and
the clock's sleepers are on one simulated time, and anything handed to the loop's executor is
waited for with the clock standing still. Time advances only when the loop is idle (no callback
ready, no executor work on its way back): then the clock jumps to the engine's next wake, or the
end: nothing else can make the engine act, and the venue stamps every arrival and end with the
instant it happened when it is next called, so stopping at them would change nothing.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from quoter.audit.events import Absent, Event, QuoteDeclined, QuoteIntent, Unknown
from quoter.backtest.curves import DailyCurves, StaticCurves
from quoter.backtest.fills import FillModel
from quoter.backtest.simmarket import KEPT_ENDED, SimMarket
from quoter.backtest.simvenue import SimVenue, memory_guard
from quoter.backtest.tape import Tape
from quoter.backtest.virtual_time import VirtualTimeLoop
from quoter.clock import ManualClock
from quoter.engine.build import build_engine
from quoter.engine.config import EngineConfig
from quoter.engine.desk import Desk
from quoter.engine.killswitch import KillSwitch
from quoter.engine.state import EngineDeps, StrategySlot
from quoter.risk.config import RiskConfig
from quoter.strategies_api import load_strategy
from quoter.venue.config import UsagePlanConfig

Progress = Callable[[int, int], None]
AFTER_END = timedelta(minutes=5)  # time for the engine to see the last outcomes


class DecisionRow(NamedTuple):
    """One decision of a replay: a quote sent (with the strategy's figures) or a decline."""

    at: datetime
    rfq_id: str
    action: str  # quote | decline
    reason: str | None
    side: str | None
    mid: float | None
    price: float | None
    bid: float | None
    ask: float | None


class RecordingAudit:
    """The audit port of a replay: keeps each decision as a compact row (what the results are
    made from), read off the typed event, and nothing else: no record is encoded, so a long
    tape's replay stays small and pays only for what it keeps. It says so (`keeps`), and the
    engine does not build the frequent events it would throw away (an RFQ seen, a venue's
    answer, an outcome, a fill)."""

    KEPT: frozenset[type[Event]] = frozenset({QuoteIntent, QuoteDeclined})

    def __init__(self) -> None:
        self.decisions: list[DecisionRow] = []

    def keeps(self, kind: type[Event]) -> bool:
        return kind in self.KEPT

    def write(self, event: Event | Unknown, at: datetime, *, durable: bool = False) -> None:
        if isinstance(event, QuoteIntent):
            d = event.decision
            row = DecisionRow(at, event.rfq_id, "quote", None, d.side, d.mid, d.price, d.bid, d.ask)
        elif isinstance(event, QuoteDeclined):
            if isinstance(event.decision, Absent):
                row = DecisionRow(
                    at, event.rfq_id, "decline", event.reason, None, None, None, None, None
                )
            else:
                d = event.decision
                row = DecisionRow(
                    at, event.rfq_id, "decline", event.reason, d.side, d.mid, d.price, d.bid, d.ask
                )
        else:
            return
        self.decisions.append(row)


DEFAULT_PLAN = UsagePlanConfig()


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run of a comparison: a strategy with its parameters, under a label."""

    label: str
    strategy: str = "curve_spread"
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    engine: EngineConfig
    risk: RiskConfig
    usage_plan: UsagePlanConfig = DEFAULT_PLAN
    kept_ended: int = KEPT_ENDED  # ended RFQs the simulated venue remembers


@dataclass(slots=True)
class Replayed:
    spec: RunSpec
    audit: RecordingAudit
    venue: SimVenue
    deps: EngineDeps
    desk: Desk
    steps: int


def replay(
    tape: Tape,
    spec: RunSpec,
    fills: FillModel,
    settings: ReplaySettings,
    curves: StaticCurves | DailyCurves,
    progress: Progress | None = None,
) -> Replayed:
    """Replay `tape` through the engine with `spec`'s strategy; returns what happened. Runs an
    event loop of its own (as `asyncio.run` does), on the replay's virtual time."""
    clock = ManualClock(tape.start)
    workers = settings.engine.quoting.workers
    loop = VirtualTimeLoop(clock, workers=workers, threads_take_real_time=False)
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(_replay(loop, tape, spec, fills, settings, curves, progress))


async def _replay(
    loop: VirtualTimeLoop,
    tape: Tape,
    spec: RunSpec,
    fills: FillModel,
    settings: ReplaySettings,
    curves: StaticCurves | DailyCurves,
    progress: Progress | None,
) -> Replayed:
    clock = loop.clock
    # Inline: simulated time does not pass while a strategy runs, so a thread hop and its
    # real-time timeout would only cost; the decision path is otherwise the live one.
    quoting = settings.engine.quoting.model_copy(update={"strategy_in_thread": False})
    config = settings.engine.model_copy(update={"quoting": quoting})
    if isinstance(curves, DailyCurves):
        curves.clock = clock
    guard = memory_guard(settings.usage_plan, clock)
    market = SimMarket(tape, clock, fills, settings.kept_ended)
    venue = SimVenue(market, guard)
    audit = RecordingAudit()
    engine = build_engine(
        venue,
        clock,
        config,
        settings.risk,
        curves,
        StrategySlot(spec.strategy, load_strategy(spec.strategy, spec.params)),
        audit,
        KillSwitch(None),  # kills hold in memory: a replay never touches the latch
        run_id=run_id_of(spec.label),
    )
    stop = asyncio.Event()
    stepper = _Stepper(clock, market, engine.desk, stop, tape.end + AFTER_END, progress)
    loop.step_when_idle(stepper.step)
    try:
        with _fewer_full_collections():
            await engine.run(stop)  # until the stepper stops it, on the loop's own time
    finally:
        loop.step_when_idle(None)
    if progress is not None:
        progress(market.settled, len(tape))
    return Replayed(spec, audit, venue, engine.deps, engine.desk, stepper.steps)


class _Stepper:
    """The replay's time: each time the loop is idle, the market catches up and the clock
    jumps to the engine's next wake, or the end, where the engine is stopped (from then on
    the loop jumps to each next wake itself until the engine has stopped)."""

    def __init__(
        self,
        clock: ManualClock,
        market: SimMarket,
        desk: Desk,
        stop: asyncio.Event,
        end: datetime,
        progress: Progress | None,
    ) -> None:
        self._clock = clock
        self._market = market
        self._desk = desk
        self._stop = stop
        self._end = end
        self._progress = progress
        self.steps = 0

    def step(self, wake_in_s: float | None) -> bool:
        if self._stop.is_set():
            return False
        self.steps += 1
        market, clock = self._market, self._clock
        if self._progress is not None and self.steps % 256 == 0:
            self._progress(market.settled, len(market.tape))
        market.catch_up()  # arrivals due now are stamped; the next one is in the future
        desk, now, end = self._desk, clock.now(), self._end
        if now >= end or (market.done() and not desk.rfqs and not desk.quotes):
            self._stop.set()  # the engine's waiters are ready: the loop is no longer idle
            return True
        clock.advance(_next_step_s(now, end, wake_in_s))
        return True


def run_id_of(label: str) -> str:
    """The engine's run id for a run: short like a live one (8 hex digits; it goes into every
    client-quote-id, which the venue bounds to 100 characters, where a run's label, its
    parameters spelled out, does not fit), and the same for the same label, so a replay repeats."""
    return hashlib.sha256(label.encode()).hexdigest()[:8]


@contextmanager
def _fewer_full_collections() -> Iterator[None]:
    """A replay's heap grows with the tape (a decision row per RFQ, every trade, the venue's
    last 20,000 ended RFQs); with CPython's default thresholds the collector rescans it ever
    more often (a fifth of a 20,000-RFQ replay). Young objects are still collected; the full
    passes come far less often."""
    before = gc.get_threshold()
    gc.set_threshold(10_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _next_step_s(now: datetime, end: datetime, wake_in_s: float | None) -> float:
    """From `now` to the engine's next wake (`wake_in_s` from now: a timer or a sleeper) or the
    end. Arrivals and ends in between need no stop: the venue stamps each with its own instant
    when the engine next calls. (`max(0.0, min(wake_in_s, until_end_s))` spelled as the
    comparisons it makes: this runs on every step.)"""
    step_s = (end - now).total_seconds()
    if wake_in_s is not None and wake_in_s <= step_s:
        step_s = wake_in_s
    return step_s if step_s > 0.0 else 0.0
