"""The report and the printed summary: runs keyed alike in tables and plots, numbers formatted
for people, the inputs stated, RFQs counted by what happened to them, refused rows summarised."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from quoter.backtest import inputs, report
from quoter.backtest.curves import DailyCurves
from quoter.backtest.driver import RunSpec
from quoter.backtest.fills import AuctionFill
from quoter.backtest.results import concat, tables
from quoter.backtest.tape import read_tape, write_tape
from quoter.cli import main
from tests.backtest.helpers import inputs_for, run, short_tape, tape_of
from tests.factories import risk_toml

LABELS = ["curve_spread", "curve_spread credit_default_eur_mwh=0.5"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("runs")
    tape = tape_of(short_tape(minutes=20.0))
    parts = []
    for label, params in zip(LABELS, [{}, {"credit_default_eur_mwh": 0.5}], strict=True):
        curves = DailyCurves(None, tape.start.date())
        replayed = run(tape, AuctionFill(), tmp, curves, RunSpec(label, "curve_spread", params))
        parts.append(tables(replayed, curves))
    return concat(parts)


def test_every_rfq_is_counted_once_by_what_happened_to_it(
    two_runs: dict[str, pd.DataFrame],
) -> None:
    summary = two_runs["summary"]
    for row in summary.to_dict("records"):
        parts = [row["quoted"], row["declined"], row["outside_hours"], row["not_seen"]]
        assert sum(parts) == row["rfqs"] == len(tape_of(short_tape(minutes=20.0)))
        by_reason = sum(v for k, v in row.items() if str(k).startswith("declined:") and v == v)
        assert by_reason == row["declined"]
    for _, values in report.outcome_rows(summary):
        assert sum(int(v.replace(",", "")) for v in values[:-1]) == int(values[-1])


def test_the_report_states_its_inputs_and_keys_runs_by_their_parameters(
    two_runs: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    desk = tmp_path / "desk.toml"
    desk.write_text("[risk]\n")
    tape = tape_of(short_tape(minutes=20.0))
    inputs = inputs_for(tape, desk=desk, seed=7, fill="logistic", logistic=(0.1, 2.0))
    page = report.write_report(two_runs, tmp_path / "out", inputs).read_text()
    stated = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", page))
    assert stated["tape"] == "test-tape"
    assert stated["RFQs"] == f"{len(tape):,} RFQs"
    start, end = (t.isoformat(timespec="seconds") for t in (tape.start, tape.end))
    assert stated["window"] == f"{start} to {end}"
    assert re.fullmatch(rf"{re.escape(str(desk))} \(sha256 [0-9a-f]{{12}}\)", stated["desk"])
    assert stated["fill model"] == "logistic: a=0.1, b=2 (given)"
    assert stated["seed"] == "7"
    assert stated["trading hours"] == "Mon–Fri 08:00–18:00 Europe/Berlin, public holidays closed"
    assert {"curves", "quoter", "ran at"} <= set(stated)
    for number, label in enumerate(LABELS, 1):
        assert f"</svg> {number} {label}</td>" in page  # tables keyed as the plots' legends
    assert '<code>{"credit_default_eur_mwh": 0.5}</code>' in html.unescape(page)
    text = re.sub(r"data:image/png;base64,[^\"]+", "", page)
    assert "NaN" not in text
    assert "nan" not in text
    for name in ("pnl", "declines", "inventory"):
        assert (tmp_path / "out" / f"{name}.png").stat().st_size > 10_000


def test_demo_limits_are_stated_as_such(two_runs: dict[str, pd.DataFrame]) -> None:
    items = dict(inputs_for(tape_of(short_tape(minutes=20.0))).items())
    assert items["desk"].startswith("demo limits")
    assert items["fill model"].startswith("auction")


def test_numbers_are_formatted_for_people_and_nothing_to_measure_is_a_dash() -> None:
    summary = pd.DataFrame(
        [{"run": "r", "rfqs": 1009.0, "quoted": 0, "fills": 0, "hit_ratio": float("nan"),
          "energy_mwh": 212239176.4, "spread_eur_mwh": float("nan"), "pnl_at_trade": -83292771.2,
          "pnl_+1d": 0.0, "pnl_+5d": 1e8, "declines": 1009, "limit_hits": 0, "kills": 0}]
    )  # fmt: skip
    ((_, values),) = report.summary_rows(summary)
    shown = dict(zip((h for _, h, _ in report.METRICS), values, strict=True))
    assert shown["RFQs"] == "1,009"
    assert shown["hit ratio"] == report.DASH
    assert shown["spread captured (EUR/MWh)"] == report.DASH
    assert shown["energy (MWh)"] == "212,239,176"
    assert shown["P&L at trade (EUR)"] == "-83,292,771"
    assert shown["P&L +5 days (EUR)"] == "100,000,000"
    assert [report.short_eur(v) for v in (1e8, -2.5e6, 12_000, 950)] == [
        "100M", "−2.5M", "12k", "950",
    ]  # fmt: skip


def test_ten_runs_are_told_apart_by_colour_and_line_style() -> None:
    keys = report.keys_of([f"run {i}" for i in range(20)])
    assert len({(k.colour, k.style) for k in keys.values()}) == 20
    assert len({k.colour for k in list(keys.values())[:10]}) == 10


def night_tape(tmp_path: Path) -> Path:
    frame = short_tape(minutes=20.0)
    for column in ("created_at", "quote_deadline", "cancel_at"):
        frame[column] = frame[column] + pd.Timedelta(hours=12)  # 19:00 UTC, Berlin closed
    path = tmp_path / "night.parquet"
    write_tape(frame, path)
    return path


HOURS_DESK = """
[engine.hours]
all_day = true

""" + risk_toml(credit_limit_eur=2_000_000_000.0)


def test_a_tape_outside_trading_hours_says_why_nothing_was_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tape = night_tape(tmp_path)
    rfqs = len(read_tape(tape))
    assert main(["backtest", "replay", str(tape), "--out", str(tmp_path / "out")]) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.quoted.iloc[0] == 0
    assert summary.outside_hours.iloc[0] == rfqs
    why = (
        f"all {rfqs} RFQs arrived outside trading hours (Mon–Fri 08:00–18:00 Europe/Berlin, "
        "public holidays closed)"
    )
    assert why in capsys.readouterr().out
    assert why in (tmp_path / "out" / "report.html").read_text()
    desk = tmp_path / "desk.toml"
    desk.write_text(HOURS_DESK)
    argv = ["backtest", "replay", str(tape), "--config", str(desk), "--out", str(tmp_path / "o2")]
    assert main(argv) == 0  # the fix the note names
    summary = pd.read_csv(tmp_path / "o2" / "summary.csv")
    assert summary.outside_hours.iloc[0] == 0
    assert summary.quoted.iloc[0] > 0


def test_refused_rows_are_summarised_at_the_end_and_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = short_tape(minutes=20.0)
    frame["quantity_mw"] = frame.quantity_mw.astype(object)
    frame.loc[[1, 4, 6], "quantity_mw"] = "-5"
    frame.loc[2, "market_area"] = "XX"
    path = tmp_path / "tape.csv"
    write_tape(frame, path)
    assert main(["backtest", "replay", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    head = "4 tape rows refused and skipped, by field: quantity_mw 3, market_area 1"
    assert head in out
    assert f"  {path}: row 2: quantity_mw: -5.0 is not positive" in out
    assert out.index(head) > out.index("run curve_spread")  # at the end, after the runs
    assert head in (tmp_path / "out" / "report.html").read_text()


def test_a_kill_that_stopped_the_quoting_is_named() -> None:
    row = {"rfqs": 100, "quoted": 10, "declined": 90, "declined:killed": 90,
           "killed_by": "2026-03-02T08:05:00+00:00 venue refused 10/10 quotes"}  # fmt: skip
    assert inputs.run_notes(row, "all day") == [
        "killed (still latched at the end): 2026-03-02T08:05:00+00:00 venue refused 10/10 quotes"
    ]


def _inventory(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    at = pd.Timestamp("2026-03-02T09:00:00Z")
    return pd.DataFrame(
        [
            {"run": r, "at": at + pd.Timedelta(minutes=i), "commodity": "power",
             "market_area": area, "month": month, "position_mwh": mwh}
            for i, (r, area, month, mwh) in enumerate(rows)
        ]
    )  # fmt: skip


def _panels(figure: object) -> list[tuple[str, list[str]]]:
    axes = figure.axes  # type: ignore[attr-defined]
    return [
        (axis.get_title(loc="left"), [t.get_text() for t in axis.get_legend().get_texts()])
        for axis in axes
    ]


def test_the_inventory_plot_shows_each_runs_own_buckets() -> None:
    inventory = _inventory(
        [("a", "DE", "2026-04", 100.0), ("b", "FR", "2026-05", -50.0), ("b", "DE", "2026-04", 5.0)]
    )
    figure = report.inventory_figure(inventory, report.keys_of(["a", "b"]))
    assert _panels(figure) == [
        ("run 1 a", ["DE 2026-04"]),
        ("run 2 b", ["FR 2026-05", "DE 2026-04"]),  # its own, largest first
    ]
    colours = [line.get_color() for axis in figure.axes for line in axis.get_lines()]
    assert colours[0] == colours[2] != colours[1]  # DE 2026-04 alike in both panels


def test_a_sweeps_inventory_plot_shows_its_first_runs_and_says_so() -> None:
    runs = [f"run{n}" for n in range(8)]
    inventory = _inventory([(r, "DE", "2026-04", 10.0 * n) for n, r in enumerate(runs)])
    figure = report.inventory_figure(inventory, report.keys_of(runs))
    assert len(figure.axes) == report.INVENTORY_RUNS
    assert "runs 1-6 of 8" in figure.get_suptitle()
