"""The PromQL the stack depends on, read from the files themselves: every dashboard target and
every rule expression, and the series selectors inside an expression."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "config/grafana/dashboards/quoter.json"
RULES = ROOT / "config/prometheus/rules/quoter.yml"
# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
     "bool", "offset", "inf", "nan"}
)  # fmt: skip


@dataclass(frozen=True)
class Expression:
    where: str  # "dashboard: <panel>" or "record: <name>" or "alert: <name>"
    expr: str

    @property
    def is_alert(self) -> bool:
        return self.where.startswith("alert:")


def dashboard_expressions() -> list[Expression]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):  # a row has none
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append(Expression(f"dashboard: {panel['title']}", expr))
    return found


def rule_expressions() -> list[Expression]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [
        Expression(
            f"alert: {rule['alert']}" if "alert" in rule else f"record: {rule['record']}",
            " ".join(rule["expr"].split()),
        )
        for group in groups
        for rule in group["rules"]
    ]


def all_expressions() -> list[Expression]:
    return [*dashboard_expressions(), *rule_expressions()]


def selectors(expr: str) -> list[str]:
    """The series selectors in `expr` (`name` or `name{matchers}`), without range or offset.

    String contents, ranges and the label lists of by/on/without/group_* are blanked (same
    length, so positions still point into `expr`); what is left that is an identifier, neither
    a keyword, nor a function or aggregation (followed by `(`, `by` or `without`), is a series."""

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0))

    text = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', expr)
    text = re.sub(r"\[[^\]]*\]", blank, text)
    text = re.sub(
        r"\b(by|on|without|ignoring|group_left|group_right)(\s*\([^)]*\))",
        lambda m: m.group(1) + " " * len(m.group(2)),
        text,
    )
    found: set[str] = set()
    pattern = r"([A-Za-z_:][A-Za-z0-9_:]*)(\s*\{[^}]*\})?(?=(\s*(\(|by\b|without\b))?)"
    for match in re.finditer(pattern, text):
        name = match.group(1)
        if match.group(3) or name.lower() in KEYWORDS:
            continue
        if match.start() > 0 and (
            text[match.start() - 1].isalnum() or text[match.start() - 1] in "_:."
        ):
            continue
        found.add(name + (expr[match.start(2) : match.end(2)].strip() if match.group(2) else ""))
    return sorted(found)


def need_binary(name: str) -> str:
    """The path of a Prometheus binary; missing is a failure, never a skip: `make test`
    installs Debian's prometheus package."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `make prometheus` installs Debian's packages")
    return path
