"""The replay driver: the production engine, wired as `quoter.app.open_bot` wires it, with a
`SimVenue` and a `ManualClock`, run event to event until the tape ends.

Two things differ from `quoter run`, both because simulated time does not pass while Python
works: strategies are evaluated inline (`strategy_in_thread` off), so the live strategy timeout
cannot decline a slow strategy here; and kills and the audit trail are held in memory (the
decisions kept as compact rows). Anything else still handed to the default executor is counted
by it, so the driver knows when that work has come back to the loop.

Time advances only when the loop is quiescent: no callback ready and no executor work on its
way back. Then the clock jumps to the engine's next wake (`next_wake_s`): nothing else can make
the engine act, and the venue stamps every arrival and end with the instant it happened when it
is next called, so stopping at them would change nothing.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from quoter.audit.events import Absent, Event, QuoteDeclined, QuoteIntent, Unknown
from quoter.backtest.curves import DailyCurves, StaticCurves
from quoter.backtest.fills import FillModel
from quoter.backtest.simmarket import KEPT_ENDED, SimMarket
from quoter.backtest.simvenue import SimVenue, memory_guard
from quoter.backtest.tape import Tape
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


class TrackedExecutor(ThreadPoolExecutor):
    """A thread pool that knows whether work is still on its way back to the event loop: a
    task counts until its result has been handed to the waiting asyncio future's callbacks."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="backtest-strategy")
        self._lock = threading.Condition()
        self._pending: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        outer: Future[Any] = Future()
        with self._lock:
            self._pending.add(outer)

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to the awaiting task, as the pool would
                if not outer.cancelled():
                    outer.set_exception(error)
            else:
                if not outer.cancelled():
                    outer.set_result(result)  # runs asyncio's wake-up before we count it done
            finally:
                with self._lock:
                    self._pending.discard(outer)
                    self._lock.notify_all()

        super().submit(run)
        return outer

    def busy(self) -> bool:
        """Work whose answer the loop has not been handed yet (abandoned work does not count)."""
        with self._lock:
            return any(not f.cancelled() for f in self._pending)

    def wait(self, timeout_s: float) -> None:
        with self._lock:
            self._lock.wait_for(lambda: not self._pending, timeout_s)


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
    tape's replay stays small and pays only for what it keeps."""

    def __init__(self) -> None:
        self.decisions: list[DecisionRow] = []

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


async def _quiesce(executor: TrackedExecutor) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(0)
        ready = getattr(loop, "_ready", None)  # CPython's queue of callbacks due now
        if ready:
            continue
        if executor.busy():
            executor.wait(0.001)  # blocks the loop: nothing else can move until it answers
            continue
        return


async def replay(
    tape: Tape,
    spec: RunSpec,
    fills: FillModel,
    settings: ReplaySettings,
    curves: StaticCurves | DailyCurves,
    progress: Progress | None = None,
) -> Replayed:
    """Replay `tape` through the engine with `spec`'s strategy; returns what happened."""
    clock = ManualClock(tape.start)
    # Inline: simulated time does not pass while a strategy runs, so a thread hop and its
    # real-time timeout would only cost; the decision path is otherwise the live one.
    quoting = settings.engine.quoting.model_copy(update={"strategy_in_thread": False})
    config = settings.engine.model_copy(update={"quoting": quoting})
    if isinstance(curves, DailyCurves):
        curves.clock = clock
    executor = TrackedExecutor(settings.engine.quoting.workers)
    asyncio.get_running_loop().set_default_executor(executor)
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
    desk = engine.desk
    stop = asyncio.Event()
    end = tape.end + AFTER_END
    steps = 0
    with _fewer_full_collections():
        async with asyncio.TaskGroup() as group:
            running = group.create_task(engine.run(stop))
            while True:
                await _quiesce(executor)
                steps += 1
                if progress is not None and steps % 256 == 0:
                    progress(market.settled, len(tape))
                now = clock.now()
                market.catch_up()  # arrivals due now are stamped; the next one is in the future
                if now >= end or (market.done() and not desk.rfqs and not desk.quotes):
                    break
                clock.advance(_next_step_s(clock, end))
            stop.set()
            while not running.done():
                await _quiesce(executor)
                wake = clock.next_wake_s()
                if wake is None:
                    await asyncio.sleep(0.001)  # only real-time timeouts are left to fire
                else:
                    clock.advance(max(0.0, wake - clock.monotonic()))
    executor.shutdown(wait=False)
    if progress is not None:
        progress(market.settled, len(tape))
    return Replayed(spec, audit, venue, engine.deps, desk, steps)


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


def _next_step_s(clock: ManualClock, end: datetime) -> float:
    """To the engine's next wake (or the end). Arrivals and ends in between need no stop: the
    venue stamps each with its own instant when the engine next calls."""
    now_s = clock.monotonic()
    until_end_s = (end - clock.now()).total_seconds()
    wake = clock.next_wake_s()
    if wake is None:
        return max(0.0, until_end_s)
    return max(0.0, min(wake - now_s, until_end_s))
