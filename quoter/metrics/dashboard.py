"""The Grafana dashboard, kept as code: `python -m quoter.metrics.dashboard` writes
config/grafana/dashboards/quoter.json, which Grafana provisions from file. A test checks the
file matches this code and that every query returns data against a live scrape."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
PATH = Path(__file__).resolve().parents[2] / "config/grafana/dashboards/quoter.json"
RATE = "$__rate_interval"

Panel = dict[str, object]


def _targets(queries: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [
        {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
        for i, (expr, legend) in enumerate(queries)
    ]


GREEN, ORANGE, RED = "green", "orange", "red"

# Thresholds: the base colour, then (value, colour) steps from that value up.
Steps = list[tuple[float, str]]


def _thresholds(base: str, steps: Steps) -> dict[str, object]:
    return {
        "mode": "absolute",
        "steps": [{"color": base, "value": None}, *({"color": c, "value": v} for v, c in steps)],
    }


def _mapping(names: dict[int, tuple[str, str]]) -> list[dict[str, object]]:
    """A value mapping: each value shown as its name, in its colour."""
    return [
        {
            "type": "value",
            "options": {
                str(value): {"text": text, "color": color, "index": index}
                for index, (value, (text, color)) in enumerate(sorted(names.items()))
            },
        }
    ]


def panel(
    title: str,
    kind: str,
    queries: list[tuple[str, str]],
    grid: tuple[int, int, int, int],
    unit: str = "short",
    description: str = "",
    stack: bool = False,
    steps: Steps | None = None,
    names: dict[int, tuple[str, str]] | None = None,
    base: str = GREEN,
) -> Panel:
    """A panel with a unit; `steps` colour it by threshold, `names` map values to words."""
    x, y, w, h = grid
    custom: dict[str, object] = {"drawStyle": "line", "fillOpacity": 10}
    if stack:
        custom = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal"}}
    defaults: dict[str, object] = {
        "unit": unit,
        "custom": custom if kind == "timeseries" else {},
        "thresholds": _thresholds(base, steps or []),
        "mappings": _mapping(names) if names else [],
    }
    if steps or names:
        defaults["color"] = {"mode": "thresholds"}
    item: Panel = {
        "title": title,
        "type": kind,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": _targets(queries),
    }
    if kind == "stat":
        item["options"] = {"colorMode": "background", "graphMode": "none", "textMode": "value"}
    if kind == "timeseries" and steps:
        custom["thresholdsStyle"] = {"mode": "line"}
    return item


def row(title: str, y: int) -> Panel:
    return {
        "title": title,
        "type": "row",
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }


def _quantiles(metric: str, by: str = "") -> list[tuple[str, str]]:
    group = f"le{', ' + by if by else ''}"
    label = f"{{{{{by}}}}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))",
            f"{label}p{int(q * 100)}",
        )
        for q in (0.5, 0.99)
    ]


# 0 active, 1 reducing, 2 halted: one number a mapping can name and colour.
TRADING_STATE = (
    'max by (instance, job) (quoter_trading_state{state="reducing"})'
    ' + 2 * max by (instance, job) (quoter_trading_state{state="halted"})'
)
ON = "on (instance, job)"


def quoting(y: int) -> list[Panel]:
    """Is it quoting?"""
    return [
        row("Is it quoting?", y),
        panel(
            "Bot up",
            "stat",
            [('up{job="quoter"}', "up")],
            (0, y + 1, 3, 4),
            "none",
            names={0: ("DOWN", RED), 1: ("UP", GREEN)},
            steps=[(1, GREEN)],
            base=RED,
        ),
        panel(
            "Trading state",
            "stat",
            [(TRADING_STATE, "state")],
            (3, y + 1, 4, 4),
            "none",
            description="active, reducing (a condition holds) or halted (a kill is latched)",
            names={0: ("ACTIVE", GREEN), 1: ("REDUCING", ORANGE), 2: ("HALTED", RED)},
            steps=[(1, ORANGE), (2, RED)],
        ),
        panel("Live quotes", "stat", [("quoter_quotes_live", "live")], (7, y + 1, 3, 4), "none"),
        panel("Open RFQs", "stat", [("quoter_rfqs_open", "open")], (10, y + 1, 3, 4), "none"),
        panel(
            "Curve age (of the limit)",
            "stat",
            [
                (
                    f"max by (instance, job) (quoter_curve_age_seconds) / {ON} "
                    "quoter_curve_max_age_seconds",
                    "oldest curve",
                )
            ],
            (13, y + 1, 4, 4),
            "percentunit",
            description="The oldest curve's age against [risk] max_curve_age_s: at 100% it is stale",
            steps=[(0.75, ORANGE), (1.0, RED)],
        ),
        panel(
            "RFQs and quotes",
            "timeseries",
            [
                (f"rate(quoter_rfqs_seen_total[{RATE}])", "RFQs seen"),
                (f"sum by (kind) (rate(quoter_quotes_sent_total[{RATE}]))", "quotes {{kind}}"),
                (f"sum by (outcome) (rate(quoter_quote_outcomes_total[{RATE}]))", "{{outcome}}"),
            ],
            (17, y + 1, 7, 8),
            "reqps",
        ),
        panel(
            "Declines by reason",
            "timeseries",
            [(f"sum by (reason) (increase(quoter_rfqs_declined_total[{RATE}]))", "{{reason}}")],
            (0, y + 5, 9, 8),
            stack=True,
        ),
        panel(
            "Curve age",
            "timeseries",
            [
                ("quoter_curve_age_seconds", "{{commodity}} {{area}}"),
                ("quoter_curve_max_age_seconds", "stale after"),
            ],
            (9, y + 5, 8, 8),
            "s",
            steps=[(129600, RED)],
        ),
    ]


def safe(y: int) -> list[Panel]:
    """Is it safe?"""
    return [
        row("Is it safe?", y),
        panel(
            "Kill switch",
            "stat",
            [("quoter_kill_switch_active", "latched")],
            (0, y + 1, 4, 4),
            "none",
            names={0: ("clear", GREEN), 1: ("LATCHED", RED)},
            steps=[(1, RED)],
        ),
        panel(
            "Possibly live",
            "stat",
            [("quoter_quotes_possibly_live", "possibly live")],
            (4, y + 1, 4, 4),
            "none",
            description="Quotes whose submit went unanswered and that the venue has not listed",
            steps=[(1, ORANGE)],
        ),
        panel(
            "Clock offset to the venue",
            "stat",
            [("quoter_venue_clock_offset_seconds", "offset")],
            (8, y + 1, 4, 4),
            "s",
            description="Positive: our clock ahead. Beyond [engine.kill] max_clock_skew_s (2 s), no new quotes",
            steps=[(-2, ORANGE), (-1, GREEN), (1, ORANGE), (2, RED)],
            base=RED,
        ),
        panel(
            "State and kills",
            "timeseries",
            [
                ("quoter_trading_state", "{{state}}"),
                ("quoter_kill_switch_kills", "kills latched"),
                ("quoter_kill_switch_unwritten", "kills not in the latch file"),
                ("quoter_trading_conditions", "conditions holding"),
                ("quoter_market_open", "market open"),
            ],
            (12, y + 1, 12, 8),
            "none",
        ),
        panel(
            "Refused, orphans, faults",
            "timeseries",
            [
                (
                    f'sum(increase(quoter_quote_outcomes_total{{outcome="refused"}}[{RATE}]))',
                    "quotes refused",
                ),
                (f"increase(quoter_quotes_orphans_withdrawn_total[{RATE}])", "orphans withdrawn"),
                (
                    f"increase(quoter_trade_capture_failures_total[{RATE}])",
                    "fills not in the trade file",
                ),
                (f"sum by (kind) (increase(quoter_strategy_faults_total[{RATE}]))", "{{kind}}"),
            ],
            (0, y + 5, 12, 8),
            stack=True,
        ),
        panel(
            "Audit write time",
            "timeseries",
            _quantiles("quoter_audit_write_seconds", "durable"),
            (12, y + 9, 12, 4),
            "s",
        ),
    ]


def winning(y: int) -> list[Panel]:
    """Is it winning?"""
    deadline_share = (
        f"quoter:rfq_seen_to_sent_seconds:p99_5m / {ON} quoter_quoting_min_time_to_deadline_seconds"
    )
    return [
        row("Is it winning?", y),
        panel(
            "Fill ratio (1 h)",
            "stat",
            [("quoter:fill_ratio:ratio_1h", "won / decided")],
            (0, y + 1, 4, 4),
            "percentunit",
        ),
        panel(
            "p99 latency of the deadline margin",
            "stat",
            [(deadline_share, "seen → sent p99")],
            (4, y + 1, 4, 4),
            "percentunit",
            description="p99 RFQ seen → quote sent against the margin kept before deadlines; "
            "the alert fires past 50%",
            steps=[(0.5, ORANGE), (1.0, RED)],
        ),
        panel(
            "RFQ created → quote acknowledged",
            "timeseries",
            [
                *_quantiles("quoter_rfq_created_to_ack_seconds"),
                ("quoter:rfq_created_to_ack_seconds:p99_5m", "p99 (5m)"),
                ("quoter_quoting_min_time_to_deadline_seconds", "deadline margin"),
            ],
            (8, y + 1, 8, 8),
            "s",
        ),
        panel(
            "RFQ seen → quote sent",
            "timeseries",
            [
                *_quantiles("quoter_rfq_seen_to_sent_seconds"),
                ("quoter:rfq_seen_to_sent_seconds:p99_5m", "p99 (5m)"),
            ],
            (16, y + 1, 8, 8),
            "s",
        ),
        panel(
            "Fill rate",
            "timeseries",
            [("quoter:fill_ratio:ratio_1h", "1 h"), ("quoter_fill_ratio", "this run")],
            (0, y + 5, 8, 4),
            "percentunit",
        ),
        panel(
            "Pricing time",
            "timeseries",
            _quantiles("quoter_pricing_seconds"),
            (0, y + 9, 8, 8),
            "s",
        ),
        panel(
            "Positions by delivery bucket",
            "bargauge",
            [("quoter_position_mwh", "{{commodity}} {{area}} {{month}}")],
            (8, y + 9, 16, 8),
            "MWh",
        ),
    ]


def venue(y: int) -> list[Panel]:
    """The venue and its budget."""
    return [
        row("The venue and its budget", y),
        panel(
            "Quota at the close (day's pace)",
            "stat",
            [
                (
                    f"quoter:quota_projected_at_close:requests / {ON} quoter_quota_limit_requests",
                    "projected / quota",
                )
            ],
            (0, y + 1, 4, 4),
            "percentunit",
            description="The day's spend at the close at the last 30 minutes' pace, against the quota",
            steps=[(0.9, ORANGE), (1.0, RED)],
        ),
        panel(
            "Quota burn-down (UTC day)",
            "timeseries",
            [
                ("quoter_quota_spent_requests", "spent"),
                ("quoter:quota_projected_at_close:requests", "projected at the close"),
                ("quoter_quota_limit_requests", "daily quota"),
                ("quoter_quota_left_requests", "left {{lane}}"),
            ],
            (4, y + 1, 10, 8),
            description="Spent today against the quota, and the spend at the close if the last 30 minutes' pace holds",
        ),
        panel(
            "Rate limiter",
            "timeseries",
            [
                (f"sum by (lane) (rate(quoter_ratelimit_waits_total[{RATE}]))", "waits {{lane}}"),
                (
                    f"sum by (lane) (rate(quoter_ratelimit_wait_seconds_total[{RATE}]))",
                    "wait s/s {{lane}}",
                ),
                ("quoter_ratelimit_waiting", "waiting {{lane}}"),
                ("quoter_ratelimit_tokens", "tokens"),
            ],
            (14, y + 1, 10, 8),
        ),
        panel(
            "Venue errors",
            "timeseries",
            [
                (f"sum by (error) (increase(quoter_venue_errors_total[{RATE}]))", "{{error}}"),
                (
                    f'sum by (endpoint, status) (increase(quoter_venue_requests_total{{status!~"2.."}}[{RATE}]))',
                    "{{endpoint}} {{status}}",
                ),
                ("quoter:venue_429:rate5m", "429/s (5m)"),
            ],
            (0, y + 9, 12, 8),
            stack=True,
        ),
        panel(
            "Venue request time",
            "timeseries",
            _quantiles("quoter_venue_request_seconds", "endpoint"),
            (12, y + 9, 12, 8),
            "s",
        ),
        panel(
            "Venue requests",
            "timeseries",
            [
                (
                    f"sum by (endpoint, status) (rate(quoter_venue_requests_total[{RATE}]))",
                    "{{endpoint}} {{status}}",
                )
            ],
            (0, y + 17, 12, 8),
            "reqps",
        ),
        panel(
            "Tokens",
            "timeseries",
            [
                (f"increase(quoter_venue_token_renewals_total[{RATE}])", "renewals"),
                (f"increase(quoter_venue_reauthentications_total[{RATE}])", "re-authentications"),
            ],
            (12, y + 17, 12, 8),
        ),
    ]


def panels() -> list[Panel]:
    all_panels = [*quoting(0), *safe(14), *winning(28), *venue(46)]
    for number, item in enumerate(all_panels, start=1):
        item["id"] = number
    return all_panels


def dashboard() -> dict[str, object]:
    return {
        "uid": "quoter",
        "title": "quoter",
        "description": "entender quoting bot: latency, fill rate, quota, declines, state, curves, venue, positions",
        "tags": ["quoter"],
        "timezone": "browser",
        "editable": True,
        "refresh": "5s",
        "time": {"from": "now-30m", "to": "now"},
        "schemaVersion": 39,
        "version": 1,
        "panels": panels(),
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    (Path(sys.argv[1]) if len(sys.argv) > 1 else PATH).write_text(render(), encoding="utf-8")
