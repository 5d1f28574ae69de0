"""The engine's metrics, read from its single-owner state at scrape time: RFQs, quotes and
their outcomes, latencies, trading state and kills, trading hours, curve ages and positions.

Labels are bounded: reason codes, outcome and state names, error classes, curve series and
delivery buckets (commodity, area, month). Never an RFQ, quote or counterparty id.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from quoter.engine.curve_report import WatchedCurves, curve_health
from quoter.engine.desk import Desk
from quoter.engine.killswitch import KillSwitch, TradingState
from quoter.engine.state import Curves, EngineDeps
from quoter.engine.stats import EngineStats
from quoter.metrics.families import (
    counter,
    gauge,
    histogram,
    labelled_counter,
    labelled_gauge,
)
from quoter.pricing.curve_files import RefusalReason
from quoter.pricing.delivery import DeliveryBucket
from quoter.pricing.reasons import ReasonCode

STRATEGY_FAULTS: dict[str, str] = {
    "error": ReasonCode.STRATEGY_ERROR,
    "nan": ReasonCode.STRATEGY_NAN,
    "invalid": ReasonCode.STRATEGY_INVALID,
    "timeout": ReasonCode.STRATEGY_TIMEOUT,
}


def _text(value: object) -> str:
    return str(getattr(value, "value", value))


def activity(desk: Desk) -> Iterator[Metric]:
    s = desk.stats
    yield counter("quoter_rfqs_seen", "RFQs seen open for the first time.", s.rfqs_seen)
    yield counter(
        "quoter_rfqs_malformed", "RFQs the venue sent that failed validation.", s.rfqs_malformed
    )
    yield counter(
        "quoter_rfqs_reopened",
        "Listings refused for saying open an RFQ the venue had listed ended (never quoted).",
        s.rfqs_reopened,
    )
    yield counter("quoter_rfqs_shed", "RFQs dropped because the pricing queue was full.", s.shed)
    yield labelled_counter(
        "quoter_rfqs_declined", "RFQs declined, by reason code.", "reason", dict(s.declined)
    )
    yield gauge(
        "quoter_rfqs_open", "RFQs open at the venue that the engine follows.", len(desk.rfqs)
    )
    yield labelled_counter(
        "quoter_quotes_sent",
        "Quotes the venue's answer acknowledged: first quotes (new) and requotes (one found "
        "live after an unknown outcome is in quoter_quotes_unknown_resolved).",
        "kind",
        {"new": s.quotes_sent, "requote": s.requotes_sent},
    )
    yield labelled_counter(
        "quoter_quote_outcomes",
        "What became of our quotes: won, lost, expired, withdrawn, refused by the venue, "
        "or sent without an answer (unknown).",
        "outcome",
        {
            "won": s.won,
            "lost": s.lost,
            "expired": s.expired,
            "withdrawn": s.withdrawn,
            "refused": s.quotes_refused,
            "unknown": s.outcomes_unknown,
        },
    )
    yield labelled_counter(
        "quoter_quotes_unknown_resolved",
        "Quotes sent without an answer (outcome unknown), by what reading our quotes later "
        "found: live (then tracked, not counted as sent), ended, or not-found by valid-until.",
        "found",
        dict(s.unknown_resolved),
    )
    yield counter("quoter_quote_withdraw_failures", "Withdrawals that failed.", s.withdraw_failures)
    yield counter(
        "quoter_quotes_orphans_withdrawn",
        "Quotes a withdrawal sweep found live at the venue but not in the book, and withdrew.",
        s.orphans_withdrawn,
    )
    yield gauge("quoter_quotes_live", "Our quotes live or in flight.", desk.quotes.live_count())
    yield gauge(
        "quoter_quotes_possibly_live",
        "Quotes whose submit went unanswered and that the venue has not listed yet: counted "
        "against the limits and looked for until found or past their valid-until.",
        len(desk.quotes.unknown()),
    )
    fill = s.fill_rate
    if fill is not None:
        yield gauge("quoter_fill_ratio", "Won over decided (won + lost) quotes, this run.", fill)
    yield labelled_counter(
        "quoter_strategy_faults",
        "Strategy decisions that failed: raised (error), NaN, invalid, or too slow (timeout).",
        "kind",
        {kind: s.declined.get(reason, 0) for kind, reason in STRATEGY_FAULTS.items()},
    )
    if s.clock_offset_s is not None:
        yield gauge(
            "quoter_venue_clock_offset_seconds",
            "How far our clock is ahead of the venue's (negative: behind), at least, by the "
            "timestamps of its last answer; beyond [engine.kill] max_clock_skew_s, no new quotes.",
            s.clock_offset_s,
        )
    yield labelled_counter(
        "quoter_venue_errors",
        "Venue calls the engine saw fail, by error class.",
        "error",
        dict(s.venue_errors),
    )


def latencies(s: EngineStats) -> Iterator[Metric]:
    yield histogram(
        "quoter_rfq_seen_to_sent_seconds",
        "From an RFQ seen by our poll to its first quote acknowledged by the venue "
        "(requotes are not answers: not counted).",
        s.seen_to_sent_s.histogram,
    )
    yield histogram(
        "quoter_rfq_created_to_ack_seconds",
        "From an RFQ's creation at the venue to our first quote acknowledged "
        "(requotes not counted).",
        s.created_to_ack_s.histogram,
    )
    yield histogram(
        "quoter_pricing_seconds", "Time a strategy took to decide.", s.pricing_s.histogram
    )


def trading(deps: EngineDeps, desk: Desk) -> Iterator[Metric]:
    switch = deps.killswitch
    state = switch.state
    yield labelled_gauge(
        "quoter_trading_state",
        "1 for the current trading state (active, reducing, halted), 0 for the others.",
        "state",
        {s.value: float(s is state) for s in TradingState},
    )
    kills = len(switch.kills)
    yield gauge("quoter_kill_switch_active", "1 while any kill is latched.", float(kills > 0))
    yield gauge("quoter_kill_switch_kills", "Kills latched now (some may be scoped).", kills)
    yield gauge(
        "quoter_kill_switch_unwritten",
        "Kills held in memory only: the latch file cannot be written, so a restart would "
        "not know them (written back once it can be).",
        len(switch.unwritten),
    )
    yield gauge(
        "quoter_trading_conditions",
        "Conditions holding now that stop new quotes (quoting reduces).",
        len(switch.conditions),
    )
    yield labelled_gauge(
        "quoter_trading_condition",
        "1 for each condition holding now that stops new quotes, by its code "
        "(market-closed, clock-skew); 0 for a code that held earlier in this run.",
        "code",
        {
            code: float(code in switch.conditions)
            for code in _conditions_seen(desk.stats, deps.killswitch)
        },
    )
    yield counter(
        "quoter_trade_capture_failures",
        "Fills the trade file could not take (damaged, not a trade file, unwritable); the "
        "venue keeps the trades for `quoter trades export`.",
        desk.stats.trade_capture_failures,
    )
    yield counter("quoter_kills", "Kills latched by this run.", desk.stats.kills)
    now = deps.clock.now()
    is_open = any(deps.calendar.is_open(area, now) for area in deps.risk.allowed_areas)
    yield gauge(
        "quoter_market_open", "1 while any allowed area is in trading hours.", float(is_open)
    )
    yield gauge(
        "quoter_market_close_seconds",
        "Seconds until today's close (0 after it).",
        deps.calendar.seconds_to_close(now),
    )
    yield gauge(
        "quoter_quoting_min_time_to_deadline_seconds",
        "RFQs with less time than this before their deadline are declined.",
        deps.config.quoting.min_time_to_deadline_s,
    )
    info = GaugeMetricFamily(
        "quoter_strategy_info", "The strategy quoting now.", labels=["strategy"]
    )
    info.add_metric([desk.strategy.name], 1.0)
    yield info


def _conditions_seen(stats: EngineStats, killswitch: KillSwitch) -> list[str]:
    """Every condition code this run has held: a series that goes to 0, not away, when it lifts."""
    seen = stats.conditions_seen
    seen.update(killswitch.conditions)
    return sorted(seen)


def market(deps: EngineDeps, desk: Desk) -> Iterator[Metric]:
    now = deps.clock.now()
    ages = GaugeMetricFamily(
        "quoter_curve_age_seconds",
        "Seconds since each curve series' as-of time.",
        labels=["commodity", "area"],
    )
    for (commodity, area), series in sorted(deps.curves.current.items()):
        ages.add_metric([_text(commodity), area], (now - series.as_of).total_seconds())
    yield ages
    yield from curve_health_metrics(deps.curves, deps.risk.allowed_areas, desk.stats)
    yield gauge(
        "quoter_curve_max_age_seconds",
        "Curves older than this are stale: quoting on them stops.",
        deps.risk.max_curve_age_s,
    )
    positions = GaugeMetricFamily(
        "quoter_position_mwh",
        "Net position per delivery bucket (positive long), MWh.",
        labels=["commodity", "area", "month"],
    )
    for bucket, mwh in desk.book.positions_mwh.items():
        if isinstance(bucket, DeliveryBucket):
            positions.add_metric([_text(bucket.commodity), bucket.market_area, bucket.month], mwh)
    yield positions


def curve_health_metrics(
    curves: Curves, allowed_areas: frozenset[str], stats: EngineStats
) -> Iterator[Metric]:
    """Whether each series the desk needs can be quoted from, and the refusals by reason."""
    problems = curves.problems if isinstance(curves, WatchedCurves) else ()
    usable = GaugeMetricFamily(
        "quoter_curve_usable",
        "1 while a series can be quoted from (an older good copy of a refused reload counts), "
        "0 while it is refused or missing; every series an allowed area needs, has or had refused.",
        labels=["commodity", "area"],
    )
    for (commodity, area), health in curve_health(curves.current, problems, allowed_areas).items():
        usable.add_metric([_text(commodity), area], float(health.usable))
    yield usable
    refusals = stats.curve_refusals
    yield labelled_counter(
        "quoter_curve_refusals",
        "Curve refusals by reason: each series or file a load refused, and each series an "
        "allowed area needs that a load left without a usable curve (missing).",
        "reason",
        {reason.value: refusals[reason.value] for reason in RefusalReason},
    )


def strategies(desk: Desk) -> Iterator[Metric]:
    """Strategy swaps, and the shadow strategy's decisions beside the live one's."""
    s = desk.stats
    yield labelled_counter(
        "quoter_strategy_swaps",
        "Strategy swaps: done, or refused (the old strategy kept quoting).",
        "outcome",
        {"done": s.strategy_swaps["done"], "refused": s.strategy_swaps["refused"]},
    )
    yield labelled_counter(
        "quoter_admin_refused",
        "Admin calls refused, by reason: host (a foreign Host), unauthorised (no or a wrong token).",
        "reason",
        {r: s.admin_refused[r] for r in ("host", "unauthorised")},
    )
    yield labelled_counter(
        "quoter_shadow_decisions",
        "Decisions of the shadow strategy (never sent), by decision: quote or decline.",
        "decision",
        {"quote": s.shadow_decisions["quote"], "decline": s.shadow_decisions["decline"]},
    )
    yield labelled_counter(
        "quoter_shadow_comparisons",
        "Shadow against live decision: same, or how they differ first "
        "(decision: quote vs decline, side, price).",
        "differs",
        {kind: s.shadow_comparisons[kind] for kind in ("same", "decision", "side", "price")},
    )
    yield histogram(
        "quoter_shadow_price_difference_eur_mwh",
        "Absolute difference between the shadow's and the live strategy's price, EUR/MWh, "
        "when both quote the same way.",
        s.shadow_difference_eur_mwh.histogram,
    )
    shadow = desk.shadow
    info = GaugeMetricFamily(
        "quoter_shadow_strategy_info", "The shadow strategy pricing now.", labels=["strategy"]
    )
    if shadow is not None:
        info.add_metric([shadow.name], 1.0)
    yield info


def engine_metrics(deps: EngineDeps, desk: Desk) -> Iterator[Metric]:
    yield from activity(desk)
    yield from strategies(desk)
    yield from latencies(desk.stats)
    yield from trading(deps, desk)
    yield from market(deps, desk)
