"""The engine: reconcile, then watch the venue, price and quote, until told to stop; then
withdraw every live quote. One TaskGroup owns every task; a crash in any of them halts
quoting, withdraws, and reaches the caller."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from quoter.audit import events
from quoter.clock import within
from quoter.domain import Rfq
from quoter.engine.answers import VenueAnswers
from quoter.engine.audit import AuditError
from quoter.engine.curve_report import CurveReporter
from quoter.engine.desk import Desk
from quoter.engine.halt import Halt
from quoter.engine.health import LEDGER_LOOK_S, VenueHealth, ledger_failsafe
from quoter.engine.heartbeat import Unsettled
from quoter.engine.hours import OpenSpans
from quoter.engine.killswitch import Kill, LatchError, Scope, kill_label
from quoter.engine.pipeline import Pipeline, refresh_due
from quoter.engine.planner import PollPacer, PollPlan
from quoter.engine.positions import PositionsRetry
from quoter.engine.quotes import UNKNOWN_GRACE, QuoteState
from quoter.engine.reconcile import StartRefused, reconcile_at_start
from quoter.engine.state import EngineDeps, StrategySlot
from quoter.engine.stop import StopWithdrawal
from quoter.engine.watch import Watcher
from quoter.engine.withdraw import Withdrawer, everything
from quoter.pricing.curve import CurveSet
from quoter.pricing.reasons import DeclineCode
from quoter.risk.config import RiskConfig
from quoter.venue import errors

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 15.0  # long enough for a submit's answer, its timeout and retries included
DRAIN_SHARE = 0.5  # of the stop's window, at most: the rest is the withdrawal's
LATCH_POLL_S = 0.2


class _Stopping(Exception):
    """Raised inside the task group to end it when the stop event is set."""


class Engine:
    def __init__(self, deps: EngineDeps, desk: Desk) -> None:
        self.deps = deps
        self.desk = desk
        stats = desk.stats
        self.halt = halt = Halt(
            deps.killswitch, deps.clock, deps.audit, stats, desk.withdraw_wanted
        )
        kill = deps.config.kill
        self._answers = VenueAnswers(kill, deps.clock, deps.killswitch, deps.audit, stats, halt)
        self._withdrawer = Withdrawer(deps.venue, deps.clock, deps.audit, deps.killswitch, desk)
        self._pipeline = Pipeline(deps, desk, halt, self._answers, self._withdrawer)
        self._watcher = Watcher(deps, desk, halt, self._answers)
        self._positions = PositionsRetry(deps, desk)
        self._stop = StopWithdrawal(self._withdrawer, self._watcher, desk, deps.clock, deps.audit)
        self._queue: asyncio.Queue[Rfq] = asyncio.Queue(deps.config.quoting.queue_size)
        self._queued: set[str] = set()  # RFQs waiting or being handled: one at a time each
        self._curve_id = ""
        self._priced_by: StrategySlot | None = None  # the strategy the live quotes were priced by
        self._next_refresh = datetime.min.replace(tzinfo=UTC)  # when a live quote may be due
        self._health = VenueHealth(kill, deps.venue, stats, halt)
        self._curve_reporter = CurveReporter(
            deps.curves, deps.risk, deps.clock, deps.audit, stats, halt
        )
        self._wake_wanted = False  # a wake() since the last nap began: the next one is short
        # The poll loop's task while it naps, and whether a wake() has cut that nap short.
        self._napping: asyncio.Task[None] | None = None
        self._nap_cut = False
        self._draining = False
        self._stop_asked_s: float | None = None  # on the clock's monotonic time
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._pacer = PollPacer(deps.config.poll, deps.clock, deps.venue, deps.calendar, desk)
        # Per-poll answers kept until their inputs change or the instant they can change: the
        # trading hours; (curves, limits, first stale instant or None) of the curves' ages.
        self._hours = OpenSpans(deps.calendar)
        self._fresh: tuple[CurveSet, RiskConfig, datetime | None] | None = None
        self._open = True  # as far as the close-of-day sweep knows: the first closed loop sweeps
        self.last_plan = PollPlan(0.0, "starting")
        # After the run: how many of our quotes may still be live at the venue, as the final
        # sweep left it (None: it has not ended yet). 0 only if the venue listed none of ours
        # live and no submit's outcome was unknown: a clean stop.
        self.left_live: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Quote until `stop` is set; always end with every live quote withdrawn."""
        try:
            self._record_start()
            self._curve_reporter.report()  # a start without a usable curve is said at once
            self._check_trade_file()
            if not await reconcile_at_start(
                self.deps, self.desk, self.halt, self._withdrawer, stop
            ):
                raise _Stopping
            async with asyncio.TaskGroup() as group:
                group.create_task(self._stop_on(stop))
                group.create_task(self._curve_reporter.run())
                group.create_task(self._poll_loop())
                group.create_task(self._withdrawer.run())
                if self.deps.killswitch.latched_on_disk:
                    group.create_task(self._watch_latch())
                for _ in range(self.deps.config.quoting.workers):
                    group.create_task(self._quote_worker())
        except* _Stopping:
            log.info("stopping: withdrawing every live quote")
        except* Exception:
            self.halt.auto_kill("engine task crashed")
            raise
        finally:
            await asyncio.shield(self._withdraw_all("shutdown"))

    async def _stop_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        clock = self.deps.clock
        self._stop_asked_s = clock.monotonic()  # the stop's window starts here
        # A submit cancelled on its way may still go live, and then no one learns its id:
        # take no new RFQ and let the submits already sent be answered before ending, within
        # a share of the stop's window (the rest withdraws; one cut off is looked for).
        drain_s = min(DRAIN_TIMEOUT_S, DRAIN_SHARE * self.deps.config.kill.stop_withdraw_timeout_s)
        self._draining = True
        if await within(clock, drain_s, self._idle.wait()) is None:
            log.error("stopping with submits unanswered after %.1f s", drain_s)
        raise _Stopping

    async def _watch_latch(self) -> None:
        """Take in kills and resumes written by `quoter kill` / `quoter resume`. A latch that
        cannot be read halts; the kills held meanwhile are written back once it can be."""
        deps, desk = self.deps, self.desk
        while True:
            await deps.clock.sleep(LATCH_POLL_S)
            unwritten = len(deps.killswitch.unwritten)
            try:
                changed = deps.killswitch.sync()
            except LatchError as error:
                self.halt.auto_kill(f"kill latch unreadable: {error}")
                continue
            if unwritten:
                log.warning("kill latch usable again: %d kill(s) held written back", unwritten)
            if changed:
                failed = self.halt.record_switch()
                kills = [kill_label(k) for k in deps.killswitch.kills]
                state = deps.killswitch.state.value
                log.warning("kill switch now %s: %s", state, "; ".join(kills) or "no kills")
                if failed is not None:
                    self.halt.auto_kill(f"audit write failed: {failed}")
                desk.withdraw_wanted.set()
                self.wake()

    def wake(self) -> None:
        """Poll now (a kill, a resume or a swap wants the loop's attention)."""
        self._wake_wanted = True
        if self._napping is not None and not self._nap_cut:
            self._nap_cut = True
            self._napping.cancel()  # told apart from a real cancel in _nap

    async def _withdraw_all(self, why: str) -> None:
        """Withdraw every live quote within the stop's window, from the stop (its drain
        included) or from now if the run ended otherwise; said loudly if any may be live."""
        clock = self.deps.clock
        started_s = clock.monotonic() if self._stop_asked_s is None else self._stop_asked_s
        timeout_s = self.deps.config.kill.stop_withdraw_timeout_s
        stopped = await self._stop.run(why, started_s, timeout_s)
        self.left_live = stopped.left_live

    def _record_start(self) -> None:
        """The limits, strategy and settings this run quotes under: a change of limits between
        runs is in the trail as the difference of two start records."""
        deps, desk = self.deps, self.desk
        try:
            start = events.Started(
                run_id=deps.run_id,
                by=_user(),
                limits=deps.risk.model_dump(mode="json"),
                engine=deps.config.model_dump(mode="json"),
                strategy=desk.strategy.name,
                params=desk.strategy.in_effect,
                kill_switch=deps.killswitch.state.value,
                # The app's facts of the run (its clock, its market's seed), as it gives them;
                # read back, the codec types the ones it knows.
                extra=dict(deps.run_facts),
            )
            deps.audit.write(start, deps.clock.now(), durable=True)
        except AuditError as error:  # no trail, no quoting: said in one line, no traceback
            self.halt.auto_kill(f"audit write failed: {error}")
            raise StartRefused(f"the audit trail cannot be written: {error}") from None

    def _check_trade_file(self) -> None:
        """A trade file that cannot take fills is said at the start, not at the first fill."""
        trades = self.deps.trades
        problem = None if trades is None else trades.problem()
        if problem is not None:
            self.desk.stats.trade_capture_problem = problem
            log.error(
                "%s: fills will not reach it until it is mended (they still count, are audited, "
                "and the venue keeps the trades)",
                problem,
            )

    async def _poll_loop(self) -> None:
        deps = self.deps
        while True:
            now = deps.clock.now()
            areas = deps.risk.allowed_areas
            if not self._market_open(areas, now):
                deps.killswitch.set_condition("market-closed", "outside trading hours")
                await self._close_of_day()
                wait_s = (deps.calendar.next_open(areas, now) - now).total_seconds()
                self.last_plan = PollPlan(wait_s, "closed")
                await self._nap(wait_s)
                continue
            deps.killswitch.clear_condition("market-closed")
            self._open = True
            if not ledger_failsafe(
                deps.venue, deps.killswitch
            ):  # else polls are refused: nothing new till it ends
                await self._poll_once()
            if ledger_failsafe(deps.venue, deps.killswitch):
                self.last_plan = PollPlan(LEDGER_LOOK_S, "quota ledger fail-safe")
            else:
                self.last_plan = self._pacer.plan()
            await self._nap(self.last_plan.interval_s)

    def _market_open(self, areas: frozenset[str], now: datetime) -> bool:
        """Any of `areas` open: the calendar's answer, asked again only once the instant it
        can change (a close, the next open) has come, or the areas changed."""
        return self._hours.any_open(areas, now)

    async def _close_of_day(self) -> None:
        """At the close, one sweep of the venue whatever the book holds; later, while closed,
        only for what the book still holds (a late answer, a possibly-live quote found)."""
        if self._open or len(self.desk.quotes):
            await self._withdrawer.sweep("market closed", everything)
        self._open = False

    async def _poll_once(self) -> None:
        try:
            to_price = await self._watcher.poll()
        except errors.VenueError as error:
            self._poll_failed(error)
            return
        try:
            await self._watcher.resolve_unknown()
        except errors.VenueError as error:
            # The RFQs read are priced all the same: a quote whose outcome is still unknown
            # blocks only its own RFQ's requote.
            self._poll_failed(error)
        else:
            self._health.poll_succeeded()
        now, curves = self.deps.clock.now(), self.deps.curves.current  # the poll's, read once
        self._kill_stale_curves(now, curves)
        self._answers.lift()  # a clock-skew hold that is over: the next answer measures again
        await self._positions.maybe()  # an incomplete start's trades read again, now and then
        for rfq in [*to_price, *self._requotes_due(now, curves), *self._holds_passed(curves)]:
            self._enqueue(rfq)

    def _poll_failed(self, error: errors.VenueError) -> None:
        if isinstance(error, errors.MalformedResponse):
            self._answers.bad(error)
        self._health.poll_failed(error)

    def _holds_passed(self, curves: CurveSet) -> list[Rfq]:
        """Open RFQs declined for what has passed since (a kill lifted, a condition cleared,
        the market open, new curves, another strategy): priced again, not left declined until
        their deadline. Their latency counts from now: the wait was the hold's, not ours."""
        desk = self.desk
        held = desk.rfqs.held
        if not held:
            return []  # nearly every poll
        due = []
        now_s = self.deps.clock.monotonic()
        for rfq_id in list(held):
            record = desk.rfqs.get(rfq_id)
            if record is None or desk.quotes.get(rfq_id) is not None or rfq_id in self._queued:
                continue
            if self._pipeline.passes_now(record, curves.id):
                # Released as it goes back to pricing: a decline holds it anew, and a quote the
                # venue then refuses is not sent again every poll.
                desk.rfqs.hold(record, None)
                record.seen_at_s = now_s
                due.append(record.rfq)
        return due

    def _kill_stale_curves(self, now: datetime, current: CurveSet) -> None:
        """A curve older than the limit kills its area until a person resumes."""
        deps = self.deps
        risk = deps.risk
        fresh = self._fresh
        if fresh is None or fresh[0] is not current or fresh[1] is not risk:
            fresh = self._fresh = (current, risk, _first_stale(current, risk))
        if fresh[2] is None or now < fresh[2]:
            return  # no curve can be stale yet: the scan below is for when one may be
        for (commodity, area), series in current.items():
            age_h = (now - series.as_of).total_seconds() / 3600
            if age_h * 3600 <= deps.risk.max_curve_age_s or area not in deps.risk.allowed_areas:
                continue
            if not deps.killswitch.covers_area(area):
                scope = Scope(areas=frozenset({area}))
                reason = f"curve stale: {commodity}/{area} is {age_h:.1f} h old"
                self.halt.kill(Kill(reason=reason, by="engine", at=now, scope=scope))

    def _requotes_due(self, now: datetime, curves: CurveSet) -> list[Rfq]:
        """Open RFQs whose live quote should be priced again: the curves changed, or the
        quote runs out before the RFQ's deadline."""
        deps, desk = self.deps, self.desk
        curve_id = curves.id
        curves_moved, self._curve_id = curve_id != self._curve_id, curve_id
        # A swap reprices what is live: the new strategy requotes it, keeps it, or (declining
        # it) has it withdrawn; the old strategy's prices do not stand until they run out.
        swapped, self._priced_by = desk.strategy is not self._priced_by, desk.strategy
        curves_moved = curves_moved or swapped
        quoting = deps.config.quoting
        if not curves_moved and now < self._next_refresh:
            return []  # no live quote can be due yet: the scan below costs what is live
        # A quote sent after this scan runs out no sooner than validity_s from now.
        earliest = now + timedelta(seconds=quoting.validity_s - quoting.refresh_margin_s)
        due = []
        open_rfq = desk.rfqs.get
        for quote in desk.quotes:
            record = open_rfq(quote.rfq.id)
            if record is None or quote.state is not QuoteState.LIVE:
                continue
            rfq = record.rfq
            if curves_moved or refresh_due(quote, rfq, now, quoting.refresh_margin_s):
                due.append(rfq)
            elif quote.valid_until < rfq.quote_deadline:
                refresh_at = quote.valid_until - timedelta(seconds=quoting.refresh_margin_s)
                earliest = min(earliest, refresh_at)
        self._next_refresh = earliest
        return due

    def _enqueue(self, rfq: Rfq) -> None:
        if rfq.id in self._queued:
            return  # already waiting: its handler reads the latest version
        try:
            self._queue.put_nowait(rfq)
        except asyncio.QueueFull:
            self.desk.stats.shed += 1
            self.desk.stats.declined[DeclineCode.QUEUE_FULL] += 1
            return
        self._queued.add(rfq.id)
        self._pacer.expect(rfq)

    async def _nap(self, seconds: float) -> None:
        """Sleep `seconds` on the engine's clock, or until `wake()`. The nap is the poll loop's
        own await of the clock's sleep, which a wake cancels: no task and no future of its own
        a poll (a replay naps once per poll, tens of thousands of times a month)."""
        if self._wake_wanted:  # woken while polling: poll again, once the others had a turn
            self._wake_wanted = False
            await asyncio.sleep(0)
            return
        task = self._napping = asyncio.current_task()
        try:
            await self.deps.clock.sleep(seconds)
        except asyncio.CancelledError:
            # A wake's cancel ends the nap; any other (the task group ending) goes on up.
            if not self._nap_cut or task is None or task.uncancel() > 0:
                raise
        finally:
            self._napping = None
            self._nap_cut = False
            self._wake_wanted = False

    async def _quote_worker(self) -> None:
        while True:
            rfq = await self._queue.get()
            self._handling += 1
            self._idle.clear()
            try:
                record = self.desk.rfqs.get(rfq.id)
                if record is not None and not self._draining:  # else closed or stopping
                    await self._pipeline.handle(record.rfq)  # its latest listing
            finally:
                self._queued.discard(rfq.id)
                self._handling -= 1
                if not self._handling:
                    self._idle.set()

    def unsettled(self) -> tuple[Unsettled, ...]:
        """The quotes whose submit's outcome is not known (in flight, unanswered), each with
        the instant after which it cannot be live, as the watcher gives it up: its valid-until
        plus the venue clock's margin. For the heartbeat: the dead-man's switch's to look for."""
        return tuple(
            Unsettled(q.client_quote_id, q.valid_until + UNKNOWN_GRACE)
            for q in self.desk.quotes.unsettled()
        )

    def kill(self, kill: Kill) -> None:
        self.halt.kill(kill)
        self.wake()

    def resume(self, by: str, ids: Collection[int] | None = None) -> tuple[Kill, ...]:
        """Lift the kills `ids` names, or every one; UnknownKill (nothing lifted) if one of
        `ids` is not latched."""
        lifted = self.deps.killswitch.resume(ids)
        resumed = events.Resumed(
            by=by, lifted=tuple(k.reason for k in lifted), ids=tuple(k.id for k in lifted)
        )
        self.deps.audit.write(resumed, self.deps.clock.now())
        self.wake()
        return lifted

    def swap(self, slot: StrategySlot, *, by: str, source: str) -> StrategySlot:
        """Quote with `slot` (loaded and validated by the caller) from the next decision on;
        decisions already running finish with the old one. Returns the old one."""
        deps, desk = self.deps, self.desk
        old = desk.strategy
        # On the trail first: a swap that cannot be audited does not happen.
        swapped = events.StrategySwapped(
            by=by, source=source, old=old.describe(), new=slot.describe()
        )
        deps.audit.write(swapped, deps.clock.now())
        desk.strategy = slot
        desk.stats.strategy_swaps["done"] += 1
        log.warning("strategy swapped by %s (%s): %s -> %s", by, source, old.name, slot.name)
        return old

    def swap_refused(self, name: str, error: str, *, by: str, source: str) -> None:
        """A swap whose strategy failed to load or validate: the old one goes on quoting."""
        deps, desk = self.deps, self.desk
        desk.stats.strategy_swaps["refused"] += 1
        refused = events.StrategySwapRefused(
            by=by, source=source, name=name, error=error, kept=desk.strategy.name
        )
        deps.audit.write(refused, deps.clock.now())
        log.error("strategy swap to %s refused (%s): %s", name, source, error)

    def shadow(self, slot: StrategySlot | None, *, by: str, source: str) -> None:
        """Price beside the live strategy with `slot` from the next decision on (None: stop)."""
        deps, desk = self.deps, self.desk
        old = desk.shadow
        swapped = events.ShadowSwapped(
            by=by,
            source=source,
            old=None if old is None else old.describe(),
            new=None if slot is None else slot.describe(),
        )
        deps.audit.write(swapped, deps.clock.now())
        desk.shadow = slot


def _first_stale(curves: CurveSet, risk: RiskConfig) -> datetime | None:
    """The first instant a curve of an allowed area may be older than the limit (before
    it, none is), or None if no allowed area has a curve."""
    age = timedelta(seconds=risk.max_curve_age_s)
    areas = risk.allowed_areas
    return min((s.as_of + age for (_, a), s in curves.items() if a in areas), default=None)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"
