"""Fuzz-style: bad configurations across every section are refused by `quoter run --config`
with one message naming the file and the key, exit 2, no traceback; good ones load.

Each case edits config/example.toml as text (so TOML's own forms, `inf`, `nan`, quoted
numbers, are what is tried): (section, key, raw TOML value) edits, and the key the refusal
must name."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quoter.basics.errors import ConfigError
from quoter.cli import main
from quoter.config import check_strategies, load_config
from quoter.engine.hours import TradingCalendar
from quoter.venue.config import CREDENTIAL_VARIABLES

ROOT = Path(__file__).parent.parent
EXAMPLE = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
Edit = tuple[str, str, str | None]  # section, key, raw TOML value (None: remove the section)


def edited(edits: list[Edit]) -> str:
    """config/example.toml with `key = value` set in `section` (added where missing)."""
    text = EXAMPLE
    for section, key, value in edits:
        header = f"[{section}]" if section else ""
        if value is None:
            text = re.sub(rf"(?ms)^\[{re.escape(section)}\]\n.*?(?=^\[|\Z)", "", text)
            continue
        line = f"{key} = {value}"
        found = re.search(rf"(?m)^{re.escape(header)}$", text) if section else None
        if section and found is None:
            text += f"\n{header}\n{line}\n"
            continue
        start = found.end() if found is not None else 0
        end = text.find("\n[", start)
        end = len(text) if end < 0 else end
        body = text[start:end]
        pattern = rf"(?m)^{re.escape(key)} = .*$"
        if re.search(pattern, body):
            body = re.sub(pattern, lambda _, new=line: new, body, count=1)  # type: ignore[misc]
        elif section:
            body = f"\n{line}{body}"
        else:
            body = f"{line}\n{body}"
        text = text[:start] + body + text[end:]
    return text


def one(section: str, key: str, value: str) -> list[Edit]:
    return [(section, key, value)]


# (id, edits, the key the message must name). Grouped by what is wrong.
BAD: list[tuple[str, list[Edit], str]] = [
    # types: text or bools for numbers, numbers for bools, text for times
    ("venue timeout as text", one("venue", "request_timeout_s", '"5"'), "request_timeout_s"),
    ("venue connections a bool", one("venue", "max_connections", "true"), "max_connections"),
    ("venue url a number", one("venue", "base_url", "5"), "base_url"),
    ("plan rate as text", one("venue.usage_plan", "rate_per_s", '"10"'), "rate_per_s"),
    ("curves age as text", one("curves", "max_age_s", '"36h"'), "max_age_s"),
    ("curves path a number", one("curves", "path", "5"), "path"),
    ("quoting workers as text", one("engine.quoting", "workers", '"4"'), "workers"),
    (
        "quoting thread flag as text",
        one("engine.quoting", "strategy_in_thread", '"yes"'),
        "strategy_in_thread",
    ),
    ("poll factor as text", one("engine.poll", "urgent_factor", '"0.25"'), "urgent_factor"),
    ("holidays flag a number", one("engine.hours", "observe_holidays", "1"), "observe_holidays"),
    ("open a number", one("engine.hours", "open_local", "8"), "open_local"),
    ("deadman beat as text", one("engine.deadman", "beat_s", '"0.5"'), "beat_s"),
    ("audit dir a number", one("engine", "audit_dir", "3"), "audit_dir"),
    ("metrics port as text", one("metrics", "port", '"9464"'), "port"),
    ("admin remote flag as text", one("admin", "allow_remote", '"false"'), "allow_remote"),
    ("risk volume as text", one("risk", "max_volume_mw", '"50"'), "max_volume_mw"),
    (
        "risk throttle count a fraction",
        one("risk", "fill_throttle_count", "2.5"),
        "fill_throttle_count",
    ),
    ("collar window as text", one("risk.collar", "drift_window_s", '"300"'), "drift_window_s"),
    (
        "counterparty limit as text",
        one("risk.credit_limit_by_counterparty_eur", '"c-1"', '"1000"'),
        "c-1",
    ),
    ("sandbox port as text", one("sandbox", "port", '"8642"'), "port"),
    ("venue connections a fraction", one("venue", "max_connections", "2.5"), "max_connections"),
    # inf and nan
    ("venue timeout inf", one("venue", "request_timeout_s", "inf"), "request_timeout_s"),
    ("venue timeout nan", one("venue", "request_timeout_s", "nan"), "request_timeout_s"),
    ("plan quota inf", one("venue.usage_plan", "daily_quota", "inf"), "daily_quota"),
    ("quoting validity -inf", one("engine.quoting", "validity_s", "-inf"), "validity_s"),
    (
        "strategy timeout nan",
        one("engine.quoting", "strategy_timeout_s", "nan"),
        "strategy_timeout_s",
    ),
    (
        "kill error rate inf",
        one("engine.kill", "max_venue_error_rate", "inf"),
        "max_venue_error_rate",
    ),
    ("admin timeout inf", one("admin", "timeout_s", "inf"), "timeout_s"),
    ("risk position inf", one("risk", "max_position_mwh", "inf"), "max_position_mwh"),
    ("risk credit nan", one("risk", "credit_limit_eur", "nan"), "credit_limit_eur"),
    ("risk notional inf", one("risk", "max_notional_eur", "inf"), "max_notional_eur"),
    (
        "collar distance inf",
        one("risk.collar", "max_distance_eur_mwh", "inf"),
        "max_distance_eur_mwh",
    ),
    ("counterparty limit inf", one("risk.credit_limit_by_counterparty_eur", '"c-1"', "inf"), "c-1"),
    ("sandbox speed inf", one("sandbox", "speed", "inf"), "speed"),
    ("market arrivals nan", one("sandbox.market", "arrivals_per_min", "nan"), "arrivals_per_min"),
    # bounds and choices
    ("venue timeout negative", one("venue", "request_timeout_s", "-1"), "request_timeout_s"),
    ("venue prefix unknown", one("venue", "api_prefix", '"/v9"'), "api_prefix"),
    ("plan burst zero", one("venue.usage_plan", "burst", "0"), "burst"),
    ("plan headroom above 1", one("venue.usage_plan", "headroom", "1.5"), "headroom"),
    (
        "plan reserves too big",
        one("venue.usage_plan", "withdraw_reserve_burst", "200"),
        "burst reserves",
    ),
    ("curves poll zero", one("curves", "poll_interval_s", "0"), "poll_interval_s"),
    ("curves years too many", one("curves", "synthetic_years", "11"), "synthetic_years"),
    ("quoting reconcile unknown", one("engine.quoting", "reconcile", '"keep"'), "reconcile"),
    ("poll interval zero", one("engine.poll", "min_interval_s", "0"), "min_interval_s"),
    (
        "kill fault rate above 1",
        one("engine.kill", "max_strategy_fault_rate", "1.5"),
        "max_strategy_fault_rate",
    ),
    ("kill window zero", one("engine.kill", "window", "0"), "window"),
    ("deadman timeout below two beats", one("engine.deadman", "timeout_s", "0.5"), "timeout_s"),
    ("metrics port too big", one("metrics", "port", "70000"), "port"),
    ("admin port negative", one("admin", "port", "-1"), "port"),
    ("risk open quotes zero", one("risk", "max_open_quotes", "0"), "max_open_quotes"),
    ("risk curve age negative", one("risk", "max_curve_age_s", "-1"), "max_curve_age_s"),
    ("risk payment day 31", one("risk", "credit_payment_day", "31"), "credit_payment_day"),
    ("risk area unknown", one("risk", "allowed_areas", '["DE", "XX"]'), "allowed_areas"),
    ("risk load unknown", one("risk", "allowed_loads", '["baseload"]'), "allowed_loads"),
    (
        "counterparty limit zero",
        one("risk.credit_limit_by_counterparty_eur", '"c-1"', "0"),
        "credit limits",
    ),
    ("market share above 1", one("sandbox.market", "two_way_share", "1.5"), "two_way_share"),
    # weekdays and hours
    ("weekday 7", one("engine.hours", "weekdays", "[0, 7]"), "weekdays"),
    ("weekday -1", one("engine.hours", "weekdays", "[-1]"), "weekdays"),
    ("weekday a name", one("engine.hours", "weekdays", '["mon"]'), "weekdays"),
    ("no weekdays", one("engine.hours", "weekdays", "[]"), "weekdays"),
    (
        "close before open",
        [
            ("engine.hours", "open_local", '"18:00:00"'),
            ("engine.hours", "close_local", '"08:00:00"'),
        ],
        "close_local",
    ),
    ("close at open", one("engine.hours", "close_local", '"08:00:00"'), "close_local"),
    ("hour 25", one("engine.hours", "open_local", '"25:00:00"'), "open_local"),
    ("all day with hours", one("engine.hours", "all_day", "true"), "all_day"),
    (
        "a closed date that is none",
        one("engine.hours", "closed_dates", '["2026-13-01"]'),
        "closed_dates",
    ),
    # remote http, hosts
    (
        "http to a remote venue",
        one("venue", "base_url", '"http://connect-sandbox.enmacc.com"'),
        "base_url",
    ),
    ("http to a private address", one("venue", "base_url", '"http://10.0.0.5:8642"'), "base_url"),
    ("ftp venue", one("venue", "base_url", '"ftp://127.0.0.1"'), "base_url"),
    ("venue url without host", one("venue", "base_url", '"https://"'), "base_url"),
    ("venue url with a path", one("venue", "base_url", '"https://x.example/v2.2"'), "base_url"),
    ("venue url bad port", one("venue", "base_url", '"https://x.example:99999"'), "base_url"),
    ("metrics on a remote host", one("metrics", "host", '"0.0.0.0"'), "host"),
    ("sandbox on a remote host", one("sandbox", "host", '"10.0.0.1"'), "host"),
    # unknown keys and sections, a missing [risk]
    ("unknown top-level key", one("", "colour", '"red"'), "colour"),
    ("unknown venue key", one("venue", "colour", '"red"'), "venue.colour"),
    ("unknown risk key", one("risk", "max_positon_mwh", "1.0"), "risk.max_positon_mwh"),
    ("unknown engine section", one("engine.extra", "x", "1"), "engine.extra"),
    (
        "no risk section",
        [
            ("risk.collar", "", None),
            ("risk.credit_limit_by_counterparty_eur", "", None),
            ("risk.price_band_eur_mwh.power", "", None),
            ("risk.price_band_eur_mwh.gas", "", None),
            ("risk", "", None),
        ],
        "[risk]",
    ),
    # the strategy, checked before the bot starts
    ("strategy unknown", one("engine.strategy", "name", '"no_such_strategy"'), "engine.strategy"),
    (
        "strategy param as text",
        one("engine.strategy.params", "credit_default_eur_mwh", '"0.5"'),
        "credit_default_eur_mwh",
    ),
    (
        "strategy param nan",
        one("engine.strategy.params", "credit_default_eur_mwh", "nan"),
        "credit_default_eur_mwh",
    ),
    (
        "strategy param negative",
        one("engine.strategy.params", "credit_default_eur_mwh", "-1"),
        "credit_default_eur_mwh",
    ),
    (
        "strategy param unknown",
        one("engine.strategy.params", "credit_default", "1"),
        "credit_default",
    ),
    (
        "shadow strategy unknown",
        one("engine.shadow", "name", '"no_such_strategy"'),
        "engine.shadow",
    ),
]

GOOD: list[tuple[str, list[Edit]]] = [
    ("the example", []),
    ("http to loopback", one("venue", "base_url", '"http://127.0.0.1:8642"')),
    ("http to localhost", one("venue", "base_url", '"http://localhost:8642"')),
    ("http to IPv6 loopback", one("venue", "base_url", '"http://[::1]:8642"')),
    (
        "http to a private sandbox, allowed",
        [("venue", "base_url", '"http://sandbox:8642"'), ("venue", "allow_http", "true")],
    ),
    ("https with a port and a slash", one("venue", "base_url", '"https://x.example:8443/"')),
    ("whole numbers for floats", one("venue", "request_timeout_s", "5")),
    ("every weekday", one("engine.hours", "weekdays", "[0, 1, 2, 3, 4, 5, 6]")),
    (
        "TOML native times",
        [("engine.hours", "open_local", "07:30:00"), ("engine.hours", "close_local", "22:00:00")],
    ),
    ("a closed date", one("engine.hours", "closed_dates", "[2026-12-24]")),
    ("a counterparty limit", one("risk.credit_limit_by_counterparty_eur", '"c-1"', "1e7")),
    ("strategy params", one("engine.strategy.params", "credit_default_eur_mwh", "0.1")),
    ("a shadow strategy", one("engine.shadow", "name", '"curve_spread"')),
]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CREDENTIAL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize(("edits", "key"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_quoter_run_refuses_a_bad_config_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edits: list[Edit], key: str
) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(edited(edits), encoding="utf-8")
    # Without credentials a config wrongly passed stops at them: no venue is ever reached.
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"quoter: {path}"), err
    assert key in err, err
    assert "Traceback" not in err
    assert "missing credentials" not in err


@pytest.mark.parametrize("edits", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_a_good_config_is_accepted(tmp_path: Path, edits: list[Edit]) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(edited(edits), encoding="utf-8")
    config = load_config(path)
    check_strategies(config, str(path))
    assert config.risk is not None


def test_the_table_covers_every_section_and_kind() -> None:
    sections = {edit[0].split(".")[0] for _, edits, _ in BAD for edit in edits}
    assert sections >= {"", "venue", "curves", "engine", "metrics", "admin", "risk", "sandbox"}
    assert len(BAD) >= 45


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[venue\n")
    for path in (tmp_path / "absent.toml", broken):
        with pytest.raises(ConfigError, match=re.escape(str(path))):
            load_config(path)


def test_a_24_hour_session_is_open_around_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    every_day = ("engine.hours", "weekdays", "[0, 1, 2, 3, 4, 5, 6]")
    text = edited([every_day, ("engine.hours", "all_day", "true")])
    text = re.sub(r"(?m)^(open|close)_local = .*\n", "", text)
    path.write_text(text, encoding="utf-8")
    hours = load_config(path).engine.hours
    calendar = TradingCalendar(hours)
    areas = frozenset({"DE"})
    for at in (
        datetime(2026, 3, 3, 23, 0, 0, tzinfo=UTC),  # local midnight
        datetime(2026, 3, 3, 22, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # the night clocks go forward
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # and back
    ):
        assert calendar.is_open("DE", at)
        assert calendar.next_open(areas, at) == at
    assert hours.all_day


def test_the_command_itself_prints_one_clean_message(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(edited(one("risk", "max_position_mwh", "inf")), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "quoter", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"quoter: {path}: invalid configuration",
        "  risk.max_position_mwh: must be a finite number, not inf",
    ]
