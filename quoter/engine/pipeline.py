"""One RFQ through the engine: may it be quoted, what does the strategy say, do the limits
allow it, then the quote goes out. Every outcome is counted and audited."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from quoter.audit import events
from quoter.audit.codec import ABSENT
from quoter.domain import Load, LoadShape, QuoteRequest, Rfq
from quoter.engine import records, shadow
from quoter.engine.answers import VenueAnswers
from quoter.engine.audit import AuditError
from quoter.engine.decide import (
    HOLDS,
    HOLDS_CURVES,
    HOLDS_GATE,
    moved_enough,
    paces_only,
    precheck,
    proposal_of,
    quote_request,
    risk_declined,
)
from quoter.engine.desk import Desk, Hold, OpenRfq
from quoter.engine.halt import Halt, must_withdraw
from quoter.engine.hours import OpenSpans
from quoter.engine.quotes import OurQuote, QuoteState
from quoter.engine.state import EngineDeps, StrategySlot
from quoter.engine.stats import RecentShare
from quoter.engine.strategy_thread import StrategyEscaped, StrategyThreads
from quoter.engine.withdraw import Withdrawer
from quoter.pricing.delivery import Delivery, delivery_of
from quoter.pricing.reasons import STRATEGY_FAULTS, DeclineCode
from quoter.risk import checks
from quoter.strategies_api import Decision, Decline, MarketSnapshot, QuoteDecision, evaluate
from quoter.venue import errors

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(
        self,
        deps: EngineDeps,
        desk: Desk,
        halt: Halt,
        answers: VenueAnswers,
        withdrawer: Withdrawer,
    ) -> None:
        self._deps = deps
        self._desk = desk
        self._halt = halt
        self._answers = answers
        self._withdrawer = withdrawer
        self._faults = RecentShare(deps.config.kill.window)  # of the last decisions
        self._faults_of: StrategySlot | None = None  # the live strategy they are of
        self._threads = StrategyThreads()
        self._hours = OpenSpans(deps.calendar)  # asked for every RFQ: changes twice a day
        self._keeps_answers = deps.audit.keeps(events.QuoteAnswered)  # a replay's does not

    async def handle(self, rfq: Rfq) -> None:
        """Price and, if everything allows it, quote `rfq` (a requote when one is live); then let
        the shadow strategy, if any, price it too."""
        deps, desk = self._deps, self._desk
        # Read once: a swap takes effect between two decisions, never within one.
        slot = desk.strategy
        declined = self._gate(rfq, slot)
        if declined is not None:
            self._decline(rfq, declined, slot)
            return
        shape = await self._shape(rfq)
        if isinstance(shape, Decline):
            self._decline(rfq, shape, slot)
            return
        positions = desk.book.positions_mwh
        market = MarketSnapshot(deps.curves.current, deps.clock.now(), positions, shape=shape)
        started = deps.clock.monotonic()
        decision = await self._evaluate(slot, rfq, market)
        desk.stats.pricing_s.append(deps.clock.monotonic() - started)
        self._note_fault(slot, decision)
        await self._act(rfq, slot, decision, market)
        shadow = desk.shadow
        if shadow is not None:
            # After the live quote is sent: the shadow never delays it.
            await self._shadow(rfq, slot, shadow, decision, market)

    async def _act(
        self, rfq: Rfq, slot: StrategySlot, decision: Decision, market: MarketSnapshot
    ) -> None:
        """What the live decision leads to: a decline, or the checks and the quote sent."""
        if isinstance(decision, Decline):
            self._decline(rfq, decision, slot, priced=True)
            await self._withdraw_live(rfq, decision)
            return
        delivery = delivery_of(rfq, market.shape)
        assert isinstance(delivery, Delivery), "a priced RFQ has a delivery"
        await self._check_and_send(rfq, slot, decision, delivery, market)

    async def _withdraw_live(self, rfq: Rfq, declined: Decline) -> None:
        """Our live quote on `rfq`, priced again and declined, is withdrawn: a quote the bot
        would not send now (the strategy declines it, or it fails a check: a curve moved past
        the collar or the drift, a limit lowered) does not stand until it runs out. A quote only
        paced (the quotes-per-minute limit) is a requote put off, and stands."""
        live = self._desk.quotes.get(rfq.id)
        if live is not None:
            await self._withdrawer.withdraw(live, f"no longer quoted: {declined.reason}")

    async def _shadow(
        self,
        rfq: Rfq,
        live_slot: StrategySlot,
        slot: StrategySlot,
        live: Decision,
        market: MarketSnapshot,
    ) -> None:
        """The shadow strategy's decision on the live one's snapshot: audited and counted,
        never sent, never counted as a fault of the live strategy."""
        deps, desk = self._deps, self._desk
        decision = await self._evaluate(slot, rfq, market)
        comparison = shadow.compare(live, decision)
        stats = desk.stats
        stats.shadow_decisions["quote" if isinstance(decision, QuoteDecision) else "decline"] += 1
        stats.shadow_comparisons[comparison.kind] += 1
        if comparison.difference_eur_mwh is not None:
            stats.shadow_difference_eur_mwh.append(abs(comparison.difference_eur_mwh))
        record = shadow.shadow_record(
            rfq.id, live_slot.name, slot.describe(), live, decision, comparison
        )
        try:
            deps.audit.write(record, deps.clock.now())
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")

    def passes_now(self, record: OpenRfq, curves_id: str) -> bool:
        """Whether what held `record` back has changed, so that it is worth pricing again: the
        kill, condition or hours no longer stop it, the curves are others, or so is the
        strategy. Asked each poll only for the RFQs held."""
        hold = record.hold
        if hold is None:
            return False
        if hold.reason in HOLDS_GATE:
            return self._gate(record.rfq, self._desk.strategy) is None
        if hold.reason in HOLDS_CURVES:
            return curves_id != hold.curve_id
        return self._desk.strategy is not hold.strategy

    def _gate(self, rfq: Rfq, slot: StrategySlot) -> Decline | None:
        deps = self._deps
        now = deps.clock.now()
        instrument = rfq.instrument
        blocked = deps.killswitch.blocked_by(
            instrument.market_area, instrument.product_type, slot.name
        )
        if blocked is not None:
            reason = DeclineCode.KILLED if blocked.startswith("killed") else DeclineCode.REDUCING
            return Decline(reason, blocked)
        if not self._hours.is_open(instrument.market_area, now):
            return Decline(DeclineCode.MARKET_CLOSED, f"{instrument.market_area} is closed")
        return precheck(rfq, now, deps.config.quoting)

    async def _shape(self, rfq: Rfq) -> LoadShape | Decline | None:
        if rfq.instrument.load is not Load.CUSTOM:
            return None
        # Kept with the open RFQ: a requote neither spends a request on it nor misses the
        # delivery caches, which know a shape by identity.
        record = self._desk.rfqs.get(rfq.id)
        if record is not None and record.shape is not None:
            return record.shape
        try:
            shape = await self._deps.venue.get_load_shape(rfq.id)
        except errors.VenueError as error:
            if isinstance(error, errors.MalformedResponse):
                self._answers.bad(error)
            return Decline(DeclineCode.SHAPE_UNAVAILABLE, f"{type(error).__name__}: {error}")
        if record is not None:
            record.shape = shape  # forgotten meanwhile (closed): the shape goes with it
        return shape

    async def _evaluate(self, slot: StrategySlot, rfq: Rfq, market: MarketSnapshot) -> Decision:
        quoting = self._deps.config.quoting
        if not quoting.strategy_in_thread:
            return evaluate(slot.strategy, rfq, market)
        timeout_s = quoting.strategy_timeout_s
        if self._threads.busy(slot.strategy):
            # Still running past its timeout on an earlier RFQ: not called again until it ends.
            return Decline(DeclineCode.STRATEGY_TIMEOUT, "still busy past its timeout")
        try:
            # A thread, so that a strategy that hangs is cut off instead of freezing the loop.
            return await self._threads.call(
                slot.strategy, lambda: evaluate(slot.strategy, rfq, market), timeout_s
            )
        except TimeoutError:
            return Decline(DeclineCode.STRATEGY_TIMEOUT, f"no decision within {timeout_s} s")
        except StrategyEscaped as error:
            return Decline(DeclineCode.STRATEGY_ERROR, f"the strategy ended its thread: {error}")

    def _note_fault(self, slot: StrategySlot, decision: Decision) -> None:
        """Count the live strategy's decision towards the fault-rate kill. The count is of the
        strategy quoting: a swap starts it afresh, so a desk that swapped a failing strategy
        out and resumed is not killed again on faults the new one never made."""
        if slot is not self._faults_of:
            self._faults, self._faults_of = RecentShare(self._deps.config.kill.window), slot
        reason = getattr(decision, "reason", None)
        fault = reason in STRATEGY_FAULTS or reason == DeclineCode.STRATEGY_TIMEOUT
        rate = self._faults.add(fault)
        kill = self._deps.config.kill
        # The rate first: nearly always 0, and then the count is not asked for.
        if rate > kill.max_strategy_fault_rate and len(self._faults) >= min(kill.window, 10):
            self._halt.auto_kill(f"strategy fault rate {rate:.0%}")

    async def _check_and_send(
        self,
        rfq: Rfq,
        slot: StrategySlot,
        decision: QuoteDecision,
        delivery: Delivery,
        market: MarketSnapshot,
    ) -> None:
        deps, desk = self._deps, self._desk
        live = desk.quotes.get(rfq.id)
        if live is not None:
            if live.state is not QuoteState.LIVE:
                return  # in flight, unknown or being withdrawn: its outcome comes first
            quoting = deps.config.quoting
            moved = moved_enough(live.prices, decision.prices(), quoting.requote_threshold_eur_mwh)
            if not moved and not refresh_due(live, rfq, market.now, quoting.refresh_margin_s):
                return  # the live quote still stands: a requote would only spend a request
        proposal = proposal_of(rfq, decision, delivery, market.curves)
        if isinstance(proposal, Decline):
            self._decline(rfq, proposal, slot, decision=decision)
            await self._withdraw_live(rfq, proposal)
            return
        now_s = deps.clock.monotonic()
        series = market.curves.get((rfq.instrument.commodity, rfq.instrument.market_area))
        age_s = (market.now - series.as_of).total_seconds() if series else float("inf")
        desk.book.settle(market.now)
        verdict = checks.check(
            deps.risk, desk.book.view(proposal, now_s=now_s, curve_age_s=age_s), proposal
        )
        desk.book.record_mid(proposal, now_s)
        refused = risk_declined(verdict)
        if refused is not None:
            self._decline(
                rfq, refused, slot, decision=decision, checks=verdict.results, curve_age_s=age_s
            )
            if not paces_only(verdict):
                await self._withdraw_live(rfq, refused)
            return
        await self._send(
            rfq, slot, decision, proposal, verdict, requote=live is not None, curve_age_s=age_s
        )

    async def _send(
        self,
        rfq: Rfq,
        slot: StrategySlot,
        decision: QuoteDecision,
        proposal: checks.Proposal,
        verdict: checks.RiskVerdict,
        *,
        requote: bool,
        curve_age_s: float,
    ) -> None:
        deps, desk = self._deps, self._desk
        now = deps.clock.now()
        request = quote_request(
            rfq, decision, desk.quotes.next_client_quote_id(deps.run_id), now, deps.config.quoting
        )
        intent = records.intent(rfq, request, slot, decision, verdict, requote, curve_age_s)
        try:
            deps.audit.write(intent, now, durable=True)
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")
            return
        previous = desk.quotes.get(rfq.id)  # a requote replaces the live quote's record
        desk.book.reserve(proposal, deps.clock.monotonic())
        desk.quotes.sending(
            OurQuote(
                rfq=rfq,
                client_quote_id=request.client_quote_id,
                prices=proposal.prices,  # the decision's, taken once
                mid=decision.mid,
                strategy=slot.name,
                valid_until=request.valid_until,
                sent_at=now,
                state=QuoteState.IN_FLIGHT,
            )
        )
        await self._submit(rfq, request, requote=requote, previous=previous)

    async def _submit(
        self, rfq: Rfq, request: QuoteRequest, *, requote: bool, previous: OurQuote | None
    ) -> None:
        deps, desk = self._deps, self._desk
        sent_at = deps.clock.now()
        try:
            quote = await deps.venue.submit_quote(request)
        except asyncio.CancelledError:
            # Stopped while the request was out: it may have landed. UNKNOWN, so that the final
            # withdrawal looks it up by its client-quote-id instead of waiting for an answer.
            desk.quotes.mark(rfq.id, QuoteState.UNKNOWN)
            raise
        except errors.SubmitOutcomeUnknown as unknown:
            desk.quotes.mark(rfq.id, QuoteState.UNKNOWN)
            desk.stats.outcomes_unknown += 1
            if unknown.bad_answer is not None:
                self._answers.bad(unknown.bad_answer)
            self._audit_answer(rfq, request.client_quote_id, f"outcome-unknown: {unknown}")
            return
        except (
            errors.RfqNotOpen,
            errors.QuoteRejected,
            errors.NotFound,
            errors.RateLimited,
            errors.GuardRefused,
            errors.QuotaExhausted,
            errors.VenueUnavailable,
            errors.AuthenticationFailed,
            errors.MalformedResponse,
        ) as error:
            # Refused or never processed: nothing new is live for this RFQ. A refused requote
            # left the quote it was to replace live (unless the RFQ closed): keep tracking it,
            # or no kill would withdraw it.
            if previous is not None and not isinstance(error, errors.RfqNotOpen):
                desk.quotes.sending(previous)
            else:
                desk.quotes.remove(rfq.id)
                desk.book.release(rfq.id)
            desk.stats.quotes_refused += 1
            desk.stats.venue_errors[type(error).__name__] += 1
            if isinstance(error, errors.MalformedResponse):
                self._answers.bad(error)
            self._audit_answer(
                rfq, request.client_quote_id, f"refused: {type(error).__name__}: {error}"
            )
            self._answers.refused(error)
            return
        self._answers.accepted(quote.created_at, sent_at, deps.clock.now())
        mine = desk.quotes.confirmed(rfq.id, quote)
        if mine is not None and must_withdraw(deps.killswitch, mine):
            desk.withdraw_wanted.set()  # killed while the quote was in flight
        if requote:
            # A refresh or a requote after a swap is not an RFQ's answer: measured from its
            # first sight, it would read as minutes of latency and page the desk for nothing.
            desk.stats.requotes_sent += 1
        else:
            desk.stats.quotes_sent += 1
            record = desk.rfqs.get(rfq.id)
            if record is not None:
                desk.rfqs.hold(record, None)  # quoted: nothing holds it back any more
                desk.stats.seen_to_sent_s.append(deps.clock.monotonic() - record.seen_at_s)
            created_s = (deps.clock.now() - rfq.created_at).total_seconds()
            desk.stats.created_to_ack_s.append(created_s)
        self._audit_answer(rfq, request.client_quote_id, "accepted", quote_id=quote.id)

    def _audit_answer(
        self, rfq: Rfq, client_quote_id: str, answer: str, quote_id: str | None = None
    ) -> None:
        if not self._keeps_answers:
            return
        event = events.QuoteAnswered(
            rfq_id=rfq.id,
            client_quote_id=client_quote_id,
            answer=answer,
            quote_id=ABSENT if quote_id is None else quote_id,
        )
        try:
            self._deps.audit.write(event, self._deps.clock.now())
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")

    def _decline(
        self,
        rfq: Rfq,
        declined: Decline,
        slot: StrategySlot,
        *,
        priced: bool = False,
        decision: QuoteDecision | None = None,
        checks: tuple[checks.CheckResult, ...] = (),
        curve_age_s: float | None = None,
    ) -> None:
        deps, desk = self._deps, self._desk
        desk.stats.declined[str(declined.reason)] += 1
        record = desk.rfqs.get(rfq.id)
        if record is not None:
            held = declined.reason in HOLDS
            hold = Hold(declined.reason, deps.curves.current.id, slot) if held else None
            desk.rfqs.hold(record, hold)
        event = records.decline(rfq, declined, slot, priced, decision, checks, curve_age_s)
        try:
            deps.audit.write(event, deps.clock.now())
        except AuditError as error:
            self._halt.auto_kill(f"audit write failed: {error}")


def refresh_due(quote: OurQuote, rfq: Rfq, now: datetime, margin_s: float) -> bool:
    """The live quote runs out within `margin_s`, before the RFQ's deadline."""
    runs_out = quote.valid_until < rfq.quote_deadline
    return runs_out and (quote.valid_until - now).total_seconds() < margin_s
