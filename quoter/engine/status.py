"""The engine's state at a glance: a plain snapshot (for the live view, the summary and the
admin interface) and its rendering as text."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from quoter.basics.usage import Lane
from quoter.engine.killswitch import kill_lines, kill_to_json
from quoter.timefmt import DESK_ZONE, hour_minute, stamp, stamp_text

if TYPE_CHECKING:  # not at run time: `quoter status` renders without the engine's imports
    from quoter.engine.desk import Desk
    from quoter.engine.planner import PollPlan
    from quoter.engine.state import EngineDeps


# The run fact a start carries when it quotes with the configuration's strategy although the
# last run had been swapped to another (`quoter.admin.swap_record`): shown until a swap in
# this run (the notice would then name a strategy no longer quoting) or the run's end.
REVERTED_FACT = "strategy-reverted"


def status_of(deps: EngineDeps, desk: Desk, plan: PollPlan) -> dict[str, object]:
    from quoter.engine.curve_report import curve_status  # the engine's imports: see above

    stats = desk.stats
    quota = deps.venue.guard_state()
    now = deps.clock.now()
    conditions = dict(deps.killswitch.conditions)
    next_open = None
    if "market-closed" in conditions:
        next_open = deps.calendar.next_open(deps.risk.allowed_areas, now).isoformat()
    return {
        "now": now.isoformat(timespec="seconds"),
        "clock": str(deps.run_facts.get("clock", "wall")),
        "state": deps.killswitch.state.value,
        "kills": [kill_to_json(k) for k in deps.killswitch.kills],
        "kills-unwritten": [k.id for k in deps.killswitch.unwritten],
        "latch-problem": deps.killswitch.latch_problem,
        "conditions": conditions,
        "next-open": next_open,
        "strategy": desk.strategy.name,
        "strategy-params": dict(desk.strategy.params),
        "strategy-version": desk.strategy.version,
        "strategy-reverted": (
            None if stats.strategy_swaps["done"] else deps.run_facts.get(REVERTED_FACT)
        ),
        "shadow": None if desk.shadow is None else desk.shadow.describe(),
        "rfqs-seen": stats.rfqs_seen,
        "rfqs-open": len(desk.rfqs),
        "rfqs-malformed": stats.rfqs_malformed,
        "rfqs-reopened": stats.rfqs_reopened,
        "quotes-sent": stats.quotes_sent,
        "requotes-sent": stats.requotes_sent,
        "quotes-live": desk.quotes.live_count(),
        "quotes-refused": stats.quotes_refused,
        "outcomes-unknown": stats.outcomes_unknown,
        "unknown-found-live": stats.unknown_resolved["live"],
        "quotes-possibly-live": len(desk.quotes.unknown()),
        "declined": dict(stats.declined.most_common()),
        "won": stats.won,
        "lost": stats.lost,
        "fill-rate": stats.fill_rate,
        "withdrawn": stats.withdrawn,
        "shed": stats.shed,
        "venue-errors": dict(stats.venue_errors),
        "bad-answers": dict(stats.bad_answers),
        "bad-answer-last": stats.bad_answer_last,
        "quota-spent": quota.spent_today,
        "quota-left": quota.daily_quota - quota.spent_today,
        "quota-left-for-polling": quota.left_today[Lane.POLL],
        "quota-ledger-failsafe": quota.ledger_failsafe,
        "next-poll-s": round(plan.interval_s, 2),
        "poll-mode": plan.reason,
        "seen-to-sent-ms-p50": stats.percentile_ms(stats.seen_to_sent_s, 50),
        "seen-to-sent-ms-p99": stats.percentile_ms(stats.seen_to_sent_s, 99),
        "pricing-ms-p50": stats.percentile_ms(stats.pricing_s, 50),
        "curves": curve_status(deps.curves, deps.risk.allowed_areas),
        "audit-chain": _audit_chain(deps.audit),
        "trades-not-written": stats.trade_capture_failures,
        "trades-problem": stats.trade_capture_problem,
    }


def _audit_chain(audit: object) -> str:
    """ "ok", or what is wrong with the audit chain (a start on a break, a failed write)."""
    health = getattr(audit, "health", None)  # the trail's, when the audit is one
    problem = getattr(health, "problem", None)
    if health is None or getattr(health, "ok", True):
        return "ok"
    return str(problem)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 1 else f"{value:.1f}"
    return str(value)


def render_status(status: dict[str, object]) -> str:
    """The status for a person: every time as `quoter.timefmt` shows it, with the clock it
    is from (demo time: the demo's sandbox clock; wall time: the machine's)."""
    declined = status["declined"]
    assert isinstance(declined, dict)
    reasons = ", ".join(f"{k} {v}" for k, v in declined.items()) or "none"
    fill = status["fill-rate"]
    fill_text = "-" if not isinstance(fill, float) else f"{fill:.0%}"
    clock = f"{status.get('clock', 'wall')} time"
    lines = [
        f"quoter  {stamp_text(status['now'])} ({clock})  state {str(status['state']).upper()}"
        f"  strategy {_strategy(status.get('strategy'), status.get('strategy-params'), status.get('strategy-version'))}",
        *_reverted_line(status.get("strategy-reverted")),
        *_shadow_line(status.get("shadow")),
        *_condition_lines(status),
        f"RFQs    seen {status['rfqs-seen']}  open {status['rfqs-open']}  malformed {status['rfqs-malformed']}"
        f"{_reopened(status)}",
        f"quotes  sent {status['quotes-sent']}  requotes {status['requotes-sent']}  live {status['quotes-live']}"
        f"  refused {status['quotes-refused']}  unknown {status['outcomes-unknown']}"
        f" ({_found_live(status)}possibly live {status['quotes-possibly-live']})"
        f"  withdrawn {status['withdrawn']}",
        f"results won {status['won']}  lost {status['lost']}  fill rate {fill_text}",
        f"declined {reasons}",
        f"quota   spent {status['quota-spent']}  left {status['quota-left']}"
        f"  (polling {status['quota-left-for-polling']})  next poll {status['next-poll-s']} s ({status['poll-mode']})",
        f"latency ({clock}) seen→sent p50 {_fmt(status['seen-to-sent-ms-p50'])} ms"
        f"  p99 {_fmt(status['seen-to-sent-ms-p99'])} ms  pricing p50 {_fmt(status['pricing-ms-p50'])} ms",
    ]
    lines += _bad_answer_line(status.get("bad-answers"), status.get("bad-answer-last"))
    failsafe = status.get("quota-ledger-failsafe")
    if failsafe:
        lines.append(f"FAIL-SAFE {failsafe}: only withdrawals go (fix or remove the file)")
    lines += _curve_lines(status.get("curves"))
    chain = status.get("audit-chain", "ok")
    if chain != "ok":
        lines.append(f"AUDIT   {chain}")
    trades_problem = status.get("trades-problem")
    if trades_problem:
        lines.append(
            f"TRADES  {status.get('trades-not-written', 0)} fill(s) not in the trade file: "
            f"{trades_problem}; the venue keeps them: `quoter trades export` completes the file"
            " once it is fixed"
        )
    problem = status.get("latch-problem")
    if problem:
        unwritten = status.get("kills-unwritten")
        held = ", ".join(str(i) for i in unwritten) if isinstance(unwritten, list) else "?"
        lines.append(
            f"LATCH   NOT WRITTEN: {problem}: kill {held} held in memory only, a restart would"
            " not see them; written once the file can be"
        )
    kills = status["kills"]
    assert isinstance(kills, list)
    lines += kill_lines(kills)
    return "\n".join(lines)


def _strategy(name: object, params: object, version: object = None) -> str:
    text = str(name)
    if isinstance(params, dict) and params:
        text += " (" + ", ".join(f"{k}={_plain(v)}" for k, v in params.items()) + ")"
    return text if version is None else f"{text} version {version}"


def _plain(value: object) -> str:
    """A parameter as typed in `--param K=V`: no quotes, no brackets."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _bad_answer_line(counts: object, last: object) -> list[str]:
    """`venue   bad answers 2, last: list_rfqs: the body is not JSON (...)`, once there is one."""
    if not isinstance(counts, dict) or not counts:
        return []
    return [f"venue   bad answers {sum(counts.values())}, last: {last}"]


def _reverted_line(note: object) -> list[str]:
    return [f"REVERTED {note}"] if note else []


def _shadow_line(shadow: object) -> list[str]:
    if not isinstance(shadow, dict):
        return []
    shown = _strategy(shadow.get("name"), shadow.get("params"), shadow.get("version"))
    return [f"shadow  {shown}: prices, sends nothing"]


def _reopened(status: dict[str, object]) -> str:
    """RFQs the venue listed open after they ended: said once there are any."""
    reopened = status.get("rfqs-reopened", 0)
    return f"  reopened {reopened} (refused)" if reopened else ""


def _found_live(status: dict[str, object]) -> str:
    """Unknown submits a lookup found live (counted live, never as sent): once there are any."""
    found = status.get("unknown-found-live", 0)
    return f"found live {found}, " if found else ""


def _condition_lines(status: dict[str, object]) -> list[str]:
    """What holds new quotes back (REDUCING), each in a sentence."""
    conditions = status.get("conditions")
    if not isinstance(conditions, dict):
        return []
    lines = []
    for code, why in conditions.items():
        if code == "market-closed":
            lines.append(f"closed  outside trading hours: {_withdrawing(status)}")
        else:
            lines.append(f"holding {code}: {why}; no new quotes until it clears")
    return lines


def _withdrawing(status: dict[str, object]) -> str:
    opens = status.get("next-open")
    if not isinstance(opens, str):
        return "withdrawing, no new quotes until the market opens"
    at = datetime.fromisoformat(opens)
    now = datetime.fromisoformat(str(status["now"]))
    same_day = at.astimezone(DESK_ZONE).date() == now.astimezone(DESK_ZONE).date()
    when = hour_minute(at) if same_day else stamp(at)
    return f"withdrawing, no new quotes until {when}"


def _curve_lines(curves: object) -> list[str]:
    """`curves  usable 3  refused power/DE (implausible-level)  missing power/AT`, then each
    reason in full (a few, the rest counted)."""
    if not isinstance(curves, dict):
        return []
    problems = curves.get("problems") or []
    files = curves.get("files") or []
    refused = [p for p in problems if not str(p["reasons"][0]).startswith("missing:")]
    missing = [p["series"] for p in problems if str(p["reasons"][0]).startswith("missing:")]
    line = f"curves  usable {curves.get('usable', 0)}"
    if refused:
        line += "  refused " + ", ".join(
            f"{p['series']} ({str(p['reasons'][0]).split(':')[0]}"
            + ("; last good kept)" if p["usable"] else ")")
            for p in refused
        )
    if missing:
        line += "  missing " + ", ".join(missing)
    details = [str(p["reasons"][0]) for p in refused] + [str(f) for f in files]
    shown = [f"        {d}" for d in details[:5]]
    if len(details) > 5:
        shown.append(f"        ... and {len(details) - 5} more")
    return [line, *shown]
