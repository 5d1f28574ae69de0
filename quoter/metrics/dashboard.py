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


def panel(
    title: str,
    kind: str,
    queries: list[tuple[str, str]],
    grid: tuple[int, int, int, int],
    unit: str = "short",
    description: str = "",
    stack: bool = False,
) -> Panel:
    x, y, w, h = grid
    custom: dict[str, object] = {"drawStyle": "line", "fillOpacity": 10}
    if stack:
        custom = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal"}}
    return {
        "title": title,
        "type": kind,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": custom if kind == "timeseries" else {}}
        },
        "targets": _targets(queries),
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


def panels() -> list[Panel]:
    row0 = [
        panel("Bot up", "stat", [('up{job="quoter"}', "up")], (0, 0, 4, 4)),
        panel(
            "Trading state",
            "stat",
            [("quoter_trading_state == 1", "{{state}}")],
            (4, 0, 4, 4),
            description="active, reducing (a condition holds) or halted (a kill is latched)",
        ),
        panel("Kill switch", "stat", [("quoter_kill_switch_active", "latched")], (8, 0, 4, 4)),
        panel(
            "Fill ratio (1 h)",
            "stat",
            [("quoter:fill_ratio:ratio_1h", "won / decided")],
            (12, 0, 4, 4),
            "percentunit",
        ),
        panel("Live quotes", "stat", [("quoter_quotes_live", "live")], (16, 0, 4, 4)),
        panel("Open RFQs", "stat", [("quoter_rfqs_open", "open")], (20, 0, 4, 4)),
    ]
    latency = [
        panel(
            "RFQ created → quote acknowledged",
            "timeseries",
            [
                *_quantiles("quoter_rfq_created_to_ack_seconds"),
                ("quoter:rfq_created_to_ack_seconds:p99_5m", "p99 (5m)"),
                ("quoter_quoting_min_time_to_deadline_seconds", "deadline margin"),
            ],
            (0, 4, 12, 8),
            "s",
        ),
        panel(
            "RFQ seen → quote sent",
            "timeseries",
            [
                *_quantiles("quoter_rfq_seen_to_sent_seconds"),
                ("quoter:rfq_seen_to_sent_seconds:p99_5m", "p99 (5m)"),
            ],
            (12, 4, 6, 8),
            "s",
        ),
        panel(
            "Pricing time", "timeseries", _quantiles("quoter_pricing_seconds"), (18, 4, 6, 8), "s"
        ),
    ]
    flow = [
        panel(
            "RFQs and quotes",
            "timeseries",
            [
                (f"rate(quoter_rfqs_seen_total[{RATE}])", "RFQs seen"),
                (f"sum by (kind) (rate(quoter_quotes_sent_total[{RATE}]))", "quotes {{kind}}"),
                (f"sum by (outcome) (rate(quoter_quote_outcomes_total[{RATE}]))", "{{outcome}}"),
            ],
            (0, 12, 12, 8),
            "reqps",
        ),
        panel(
            "Declines by reason",
            "timeseries",
            [(f"sum by (reason) (increase(quoter_rfqs_declined_total[{RATE}]))", "{{reason}}")],
            (12, 12, 12, 8),
            stack=True,
        ),
        panel(
            "Fill rate",
            "timeseries",
            [("quoter:fill_ratio:ratio_1h", "1 h"), ("quoter_fill_ratio", "this run")],
            (0, 20, 8, 8),
            "percentunit",
        ),
        panel(
            "Strategy faults",
            "timeseries",
            [(f"sum by (kind) (increase(quoter_strategy_faults_total[{RATE}]))", "{{kind}}")],
            (8, 20, 8, 8),
            stack=True,
        ),
        panel(
            "Positions by delivery bucket",
            "bargauge",
            [("quoter_position_mwh", "{{commodity}} {{area}} {{month}}")],
            (16, 20, 8, 8),
            "MWh",
        ),
    ]
    quota = [
        panel(
            "Quota burn-down (UTC day)",
            "timeseries",
            [
                ("quoter_quota_spent_requests", "spent"),
                ("quoter:quota_projected_at_close:requests", "projected at the close"),
                ("quoter_quota_limit_requests", "daily quota"),
                ("quoter_quota_left_requests", "left {{lane}}"),
            ],
            (0, 28, 12, 8),
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
            (12, 28, 12, 8),
        ),
    ]
    venue = [
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
            (0, 36, 12, 8),
            stack=True,
        ),
        panel(
            "Venue request time",
            "timeseries",
            _quantiles("quoter_venue_request_seconds", "endpoint"),
            (12, 36, 12, 8),
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
            (0, 44, 12, 8),
            "reqps",
        ),
        panel(
            "Tokens",
            "timeseries",
            [
                (f"increase(quoter_venue_token_renewals_total[{RATE}])", "renewals"),
                (f"increase(quoter_venue_reauthentications_total[{RATE}])", "re-authentications"),
            ],
            (12, 44, 6, 8),
        ),
        panel(
            "Audit write time",
            "timeseries",
            _quantiles("quoter_audit_write_seconds", "durable"),
            (18, 44, 6, 8),
            "s",
        ),
    ]
    state = [
        panel(
            "State and kills",
            "timeseries",
            [
                ("quoter_trading_state", "{{state}}"),
                ("quoter_kill_switch_kills", "kills latched"),
                ("quoter_trading_conditions", "conditions"),
                ("quoter_market_open", "market open"),
            ],
            (0, 52, 12, 8),
        ),
        panel(
            "Curve age",
            "timeseries",
            [
                ("quoter_curve_age_seconds", "{{commodity}} {{area}}"),
                ("quoter_curve_max_age_seconds", "stale after"),
            ],
            (12, 52, 12, 8),
            "s",
        ),
    ]
    all_panels = [*row0, *latency, *flow, *quota, *venue, *state]
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
