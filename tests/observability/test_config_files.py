"""The stack's files, checked offline (no Docker engine here): Prometheus config and rules
with promtool, the alerts' unit tests, the compose file and Grafana's provisioning."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import yaml

from quoter.config import load_config
from quoter.metrics import dashboard
from tests.observability.promql import DASHBOARD, ROOT, RULES, need_binary, rule_expressions

PROMETHEUS = ROOT / "config/prometheus"
ALERTMANAGER = ROOT / "config/alertmanager/alertmanager.yml"
RUNBOOK = ROOT / "docs/runbook.md"
# What these checks ran with here: Debian's promtool 2.42 and amtool 0.25; the compose stack
# pins prom/prometheus v2.53.0 and prom/alertmanager v0.27.0, whose formats these files also
# keep to (nothing here uses a feature newer than 2.42 / 0.25).
GRAFANA = ROOT / "config/grafana"


def _promtool(*args: str) -> str:
    return _run(need_binary("promtool"), *args)


def _amtool(*args: str) -> str:
    return _run(need_binary("amtool"), *args)


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_prometheus_config_and_rules_are_valid() -> None:
    _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    _promtool("check", "rules", str(RULES))


def test_every_alert_passes_its_unit_tests() -> None:
    _promtool("test", "rules", *map(str, sorted((PROMETHEUS / "tests").glob("*.yml"))))


def test_every_alert_has_a_unit_test() -> None:
    alerts = {e.where.removeprefix("alert: ") for e in rule_expressions() if e.is_alert}
    tested = {
        case["alertname"]
        for path in (PROMETHEUS / "tests").glob("*.yml")
        for group in _yaml(path)["tests"]
        for case in group.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == tested
    assert {
        "QuoterDown", "QuoterKillSwitchActive", "QuoterKillNotLatched", "QuoterQuotaRunsOutBeforeClose",
        "QuoterRateLimited", "QuoterCurveStale", "QuoterLatencyNearDeadline",
        "QuoterNoRfqsInMarketHours", "QuoterReducing", "QuoterClockSkew",
        "QuoterClockOffsetDrifting", "QuoterNoUsableCurve", "QuoterCurveRefused",
        "QuoterQuotesRefused", "QuoterQuotesPossiblyLive", "QuoterOrphansWithdrawn",
        "QuoterQuotaLedgerFailsafe", "QuoterAuditChainBroken", "QuoterAdminRefused",
        "QuoterTradeCaptureFailing",
    } <= alerts  # fmt: skip


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_alert_has_a_severity_and_a_runbook_section_that_exists() -> None:
    sections = {
        _anchor(line.lstrip("#"))
        for line in RUNBOOK.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    groups = _yaml(RULES)["groups"]
    for rule in (r for g in groups for r in g["rules"] if "alert" in r):
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/runbook.md", rule["alert"]
        assert anchor in sections, f"{rule['alert']}: no runbook section #{anchor}"


def test_alertmanager_config_is_valid_and_routes_by_severity() -> None:
    _amtool("check-config", str(ALERTMANAGER))

    def route(*labels: str) -> str:
        out = _amtool("config", "routes", "test", f"--config.file={ALERTMANAGER}", *labels)
        return out.splitlines()[0].split("Warning")[0].strip()

    assert route("alertname=QuoterKillSwitchActive", "severity=critical") == "desk-pager"
    assert route("alertname=QuoterRateLimited", "severity=warning") == "desk-chat"
    assert route("alertname=Unknown") == "desk-chat"  # nothing is dropped
    config = _yaml(ALERTMANAGER)
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            assert hook["send_resolved"] is True, receiver["name"]
    alerts = {e.where.removeprefix("alert: ") for e in rule_expressions() if e.is_alert}
    for rule in config["inhibit_rules"]:
        for matcher in [*rule["source_matchers"], *rule["target_matchers"]]:
            name, _, value = matcher.partition("=")
            if name == "alertname":  # every alert an inhibition names exists
                assert set(value.lstrip("~").strip('"').split("|")) <= alerts, matcher
        assert "instance" in rule["equal"] or rule["equal"] == ["job"]
    # Every receiver delivers to a service of the stack (the alert inbox), or an alert that
    # fires the moment the stack is up reaches nobody.
    compose = _yaml(ROOT / "docker-compose.yml")["services"]
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            where = urllib.parse.urlsplit(hook["url"])
            assert where.hostname in compose, f"{receiver['name']} posts to {hook['url']}"
            published = [str(p).rsplit(":", 1)[-1] for p in compose[where.hostname]["ports"]]
            assert str(where.port) in published, hook["url"]
    assert compose["alertmanager"]["depends_on"] == {
        "alert-inbox": {"condition": "service_healthy"}
    }
    prometheus = _yaml(PROMETHEUS / "prometheus.yml")["alerting"]["alertmanagers"]
    assert [t for a in prometheus for c in a["static_configs"] for t in c["targets"]] == [
        "alertmanager:9093"
    ]


def test_the_dashboard_file_is_the_dashboard_code() -> None:
    assert DASHBOARD.read_text(encoding="utf-8") == dashboard.render(), (
        "regenerate: python -m quoter.metrics.dashboard"
    )


def test_grafana_provisions_the_datasource_and_dashboard_the_panels_use() -> None:
    sources = _yaml(GRAFANA / "provisioning/datasources/prometheus.yml")["datasources"]
    providers = _yaml(GRAFANA / "provisioning/dashboards/quoter.yml")["providers"]
    uids = {s["uid"] for s in sources}
    assert [s["url"] for s in sources] == ["http://prometheus:9090"]
    assert [p["options"]["path"] for p in providers] == ["/var/lib/grafana/dashboards"]
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in (p for p in board["panels"] if p["type"] != "row"):
        assert panel["targets"], panel["title"]
        assert {t["datasource"]["uid"] for t in panel["targets"]} <= uids
    titles = " ".join(p["title"].lower() for p in board["panels"])
    for topic in ("latency", "fill", "quota", "declines", "state", "curve age", "venue errors",
                  "positions"):  # fmt: skip
        assert topic in titles or (topic == "latency" and "acknowledged" in titles), topic


def test_compose_runs_the_stack_with_health_checks_and_files_that_exist() -> None:
    compose = _yaml(ROOT / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {
        "sandbox", "quoter", "deadman", "prometheus", "alertmanager", "alert-inbox", "grafana"
    }  # fmt: skip
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services
            assert condition == {"condition": "service_healthy"}
    assert (ROOT / "Dockerfile").exists()
    assert services["quoter"]["depends_on"] == {"sandbox": {"condition": "service_healthy"}}
    for name, service in services.items():
        image = service.get("image", "")
        assert "build" in service or (image.count(":") == 1 and "latest" not in image), name


def test_compose_keeps_the_desks_state_and_runs_a_switch_that_outlives_the_bot() -> None:
    compose = _yaml(ROOT / "docker-compose.yml")
    services = compose["services"]
    quoter, deadman = services["quoter"], services["deadman"]
    command = quoter["command"]
    config = load_config(ROOT / command[command.index("--config") + 1])
    # Everything the bot keeps is under /app/var, a named volume both share.
    engine = config.engine
    kept = [
        engine.audit_dir, engine.audit_key_path, engine.audit_anchor_path, engine.trades_file,
        engine.kill.latch_path, engine.deadman.heartbeat_path,
        config.venue.usage_plan.ledger_path, config.admin.token_file,
    ]  # fmt: skip
    for path in kept:
        assert path is not None
        assert path.parts[:3] == ("/", "app", "var"), path
    assert "quoter-var:/app/var" in quoter["volumes"]
    assert "quoter-var:/app/var" in deadman["volumes"]
    assert "quoter-var" in compose["volumes"]
    # The admin interface answers `docker compose exec quoter quoter kill`: a token, loopback.
    assert quoter["environment"]["QUOTER_ADMIN_TOKEN"]
    assert config.admin.enabled
    assert config.admin.host == "127.0.0.1"
    assert config.engine.deadman.enabled  # the bot beats; both switches watch the beat
    # The separate switch: same image, the bot's credentials, the compose config, pid 1.
    assert deadman["build"] == quoter["build"]
    assert deadman["environment"] == {
        k: v for k, v in quoter["environment"].items() if k.startswith("QUOTER_CLIENT")
        or k == "QUOTER_API_KEY"
    }  # fmt: skip
    script = ROOT / deadman["entrypoint"][1]
    text = script.read_text(encoding="utf-8")
    assert "quoter deadman --config" in text
    assert "--pid 1" in text
    assert str(ROOT / command[command.index("--config") + 1]).endswith("config/compose/quoter.toml")
    assert subprocess.run(["sh", "-n", str(script)], timeout=10).returncode == 0
    # The desk's strategies and curves are mounted, and importable.
    assert "./config/compose/desk:/app/desk:ro" in quoter["volumes"]
    assert quoter["environment"]["PYTHONPATH"] == "/app/desk"
    assert (ROOT / "config/compose/desk/desk_strategies").is_dir()


def test_compose_wires_quoter_to_the_sandbox_and_prometheus_to_quoter() -> None:
    compose = _yaml(ROOT / "docker-compose.yml")
    command = compose["services"]["quoter"]["command"]
    config = load_config(ROOT / command[command.index("--config") + 1])
    assert config.venue.base_url == "http://sandbox:8642"
    assert config.metrics.enabled
    assert config.metrics.host == "0.0.0.0"
    scrape = _yaml(PROMETHEUS / "prometheus.yml")["scrape_configs"]
    targets = {t for job in scrape for c in job["static_configs"] for t in c["targets"]}
    assert f"quoter:{config.metrics.port}" in targets
    sandbox_port = int(config.venue.base_url.rsplit(":", 1)[1])
    assert config.sandbox.port == sandbox_port
    assert config.sandbox.use_env_credentials


# What Grafana 11.1 (the pinned grafana/grafana:11.1.0) accepts in the parts of the dashboard
# schema (schemaVersion 39) this dashboard uses; no Grafana runs here, so this is the check.
PANEL_TYPES = {"stat", "timeseries", "bargauge", "row"}
PANEL_KEYS = {"id", "title", "type", "description", "datasource", "gridPos", "fieldConfig",
              "targets", "options", "collapsed", "panels"}  # fmt: skip
DEFAULTS_KEYS = {"unit", "custom", "thresholds", "mappings", "color"}
MAPPING_TYPES = {"value", "range", "regex", "special"}
COLOURS = {"green", "orange", "red", "yellow", "blue", "text"}


def test_the_dashboard_keeps_to_grafanas_schema_and_reads_at_a_glance() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["schemaVersion"] == 39
    cells: set[tuple[int, int]] = set()
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["Is it quoting?", "Is it safe?", "Is it winning?", "The venue and its budget"]
    by_title = {p["title"]: p for p in board["panels"]}
    for panel in board["panels"]:
        title = panel["title"]
        assert panel["type"] in PANEL_TYPES, title
        assert set(panel) <= PANEL_KEYS, f"{title}: {set(panel) - PANEL_KEYS}"
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in "xywh"), title
        assert grid["x"] >= 0, title
        assert grid["x"] + grid["w"] <= 24, title
        mine = {(grid["x"] + i, grid["y"] + j) for i in range(grid["w"]) for j in range(grid["h"])}
        assert not mine & cells, f"{title} overlaps another panel"
        cells |= mine
        if panel["type"] == "row":
            assert panel["panels"] == []
            assert panel["collapsed"] is False
            continue
        defaults = panel["fieldConfig"]["defaults"]
        assert set(defaults) <= DEFAULTS_KEYS, title
        assert defaults["unit"], f"{title} has no unit"
        steps = defaults["thresholds"]["steps"]
        assert defaults["thresholds"]["mode"] in {"absolute", "percentage"}
        assert steps[0]["value"] is None, title  # the base step
        values = [s["value"] for s in steps[1:]]
        assert values == sorted(values), title
        assert {s["color"] for s in steps} <= COLOURS, title
        for mapping in defaults["mappings"]:
            assert mapping["type"] in MAPPING_TYPES, title
            for result in mapping["options"].values():
                assert set(result) <= {"text", "color", "index"}, title
    # At a glance: the state and the kill read as words in colour, the pace and ages as colour.
    state = by_title["Trading state"]["fieldConfig"]["defaults"]
    names = state["mappings"][0]["options"]
    assert {k: (v["text"], v["color"]) for k, v in names.items()} == {
        "0": ("ACTIVE", "green"), "1": ("REDUCING", "orange"), "2": ("HALTED", "red")
    }  # fmt: skip
    kill = by_title["Kill switch"]["fieldConfig"]["defaults"]
    assert kill["mappings"][0]["options"]["1"] == {"text": "LATCHED", "color": "red", "index": 1}
    assert kill["thresholds"]["steps"][-1] == {"color": "red", "value": 1}
    for title in ("Quota at the close (day's pace)", "Curve age (of the limit)",
                  "p99 latency of the deadline margin"):  # fmt: skip
        assert by_title[title]["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["color"] == (
            "red"
        )
