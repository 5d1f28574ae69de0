"""The report of a backtest: its inputs, each run keyed by a number, colour and line style that
the tables and plots share, the summary formatted for people, RFQs by what happened to them,
notes, refused tape rows and plots (matplotlib PNGs inlined: the report is one file); plus every
table as Parquet and CSV."""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from quoter.backtest.inputs import Inputs, refused_lines, run_notes

# matplotlib's tab10: a qualitative palette of ten colours that stay apart in print and on screen
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
LineStyle = Literal["-", "--", "-.", ":"]
STYLES: tuple[LineStyle, ...] = (
    "-",
    "--",
    "-.",
    ":",
)  # with 10 colours: 20 runs before a key repeats
DASHES = {"-": "", "--": "6,3", "-.": "6,2,1,2", ":": "1,2"}
DASH = "–"
DASH_NOTE = f"{DASH}: nothing to measure (a hit ratio without quotes, a spread without trades)"
Format = Callable[[float], str]


def count(value: float) -> str:
    return f"{value:,.0f}"


def eur(value: float) -> str:
    return f"{value:,.0f}"


def per_mwh(value: float) -> str:
    return f"{value:,.3f}"


def ratio(value: float) -> str:
    return f"{value:.1%}"


def short_eur(value: float, _: object = None) -> str:
    """An axis tick in EUR: 950, 12k, 3.4M."""
    size = abs(value)
    for scale, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size >= scale:
            return f"{value / scale:,.3g}{unit}".replace("-", "−")
    return f"{value:,.0f}".replace("-", "−")


# The summary's columns, as the report shows them (the CSV keeps every column as computed).
METRICS: tuple[tuple[str, str, Format], ...] = (
    ("rfqs", "RFQs", count),
    ("quoted", "quoted", count),
    ("fills", "fills", count),
    ("hit_ratio", "hit ratio", ratio),
    ("energy_mwh", "energy (MWh)", count),
    ("spread_eur_mwh", "spread captured (EUR/MWh)", per_mwh),
    ("pnl_at_trade", "P&L at trade (EUR)", eur),
    ("pnl_+1d", "P&L +1 day (EUR)", eur),
    ("pnl_+5d", "P&L +5 days (EUR)", eur),
    ("declines", "declines (decisions)", count),
    ("limit_hits", "limit hits", count),
    ("kills", "kills", count),
)
OUTCOMES_FIRST = ("quoted",)
OUTCOMES_LAST = (("outside_hours", "outside trading hours"), ("not_seen", "ended unseen"))


@dataclass(frozen=True, slots=True)
class Key:
    """How a run is shown: its number, colour and line style, the same in tables and plots."""

    number: int
    label: str
    colour: str  # #rrggbb
    style: LineStyle

    @property
    def legend(self) -> str:
        return f"{self.number} {self.label}"

    def swatch(self) -> str:
        dash = DASHES[self.style]
        return (
            f'<svg width="30" height="10"><line x1="0" y1="5" x2="30" y2="5" '
            f'stroke="{self.colour}" stroke-width="3" stroke-dasharray="{dash}"/></svg>'
        )


def keys_of(runs: Sequence[str]) -> dict[str, Key]:
    return {
        run: Key(i + 1, run, PALETTE[i % len(PALETTE)], STYLES[i % len(STYLES)])
        for i, run in enumerate(runs)
    }


def cell(value: object, format_: Format) -> str:
    """A number formatted, or the dash when there is nothing to measure (NaN)."""
    if isinstance(value, numbers.Real) and not math.isnan(float(value)):
        return format_(float(value))
    return DASH if value is None or isinstance(value, numbers.Real) else str(value)


def summary_rows(summary: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """(run, formatted metrics) per run, in METRICS' order."""
    return [
        (str(row.run), [cell(row.get(column), f) for column, _, f in METRICS])
        for row in (summary.iloc[i] for i in range(len(summary)))
    ]


def outcome_columns(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """(column, heading): RFQs by what happened to them; per run they add up to its RFQs."""
    declined = sorted(c for c in summary.columns if c.startswith("declined:"))
    return [
        ("quoted", "quoted"),
        *((c, "declined: " + c.removeprefix("declined:")) for c in declined),
        *OUTCOMES_LAST,
    ]


def outcome_rows(summary: pd.DataFrame) -> list[tuple[str, list[str]]]:
    columns = outcome_columns(summary)
    rows = []
    for i in range(len(summary)):
        row = summary.iloc[i]
        values = [row.get(c) for c, _ in columns]
        numbers_ = [v if isinstance(v, numbers.Real) and v == v else 0 for v in values]
        rows.append((str(row.run), [count(float(v)) for v in numbers_] + [count(row.rfqs)]))
    return rows


def summary_text(tables: dict[str, pd.DataFrame], inputs: Inputs) -> str:
    """The summary as the command prints it: the inputs, each run's figures, notes, refusals."""
    summary = tables["summary"]
    lines = [f"{what:>14}  {value}" for what, value in inputs.items()]
    outcomes = outcome_columns(summary)
    for (run, values), (_, counts) in zip(
        summary_rows(summary), outcome_rows(summary), strict=True
    ):
        lines += ["", f"run {run}"]
        lines += [f"{h:>26}  {v}" for (_, h, _), v in zip(METRICS, values, strict=True)]
        happened = ", ".join(
            f"{h} {n}" for (_, h), n in zip(outcomes, counts, strict=False) if n != "0"
        )
        lines.append(f"{'RFQs by outcome':>26}  {happened} (of {counts[-1]})")
        row = _records(summary[summary.run == run])[0]
        lines += [f"{'note':>26}  {note}" for note in run_notes(row, inputs.hours)]
    if any(DASH in values for _, values in summary_rows(summary)):
        lines += ["", DASH_NOTE]
    if inputs.refused:
        lines += ["", *refused_lines(inputs.refused)]
    return "\n".join(lines)


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)


def write_report(tables: dict[str, pd.DataFrame], out: Path, inputs: Inputs) -> Path:
    """`out/report.html`, and each plot as a PNG beside it; returns the report's path."""
    summary = tables["summary"]
    keys = keys_of(list(summary.run))
    plots = {
        "pnl": pnl_figure(tables["fills"], keys),
        "declines": declines_figure(tables["decisions"], keys),
        "inventory": inventory_figure(tables["inventory"], keys),
    }
    out.mkdir(parents=True, exist_ok=True)
    images = []
    for name, figure in plots.items():
        png = _png(figure)
        (out / f"{name}.png").write_bytes(png)
        images.append(f'<p><img src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>')
    path = out / "report.html"
    path.write_text(_page(tables, inputs, keys, "".join(images)), encoding="utf-8")
    return path


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;"
    "font-size:12px;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 6px;"
    "vertical-align:top}th{background:#f4f4f4;text-align:left}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}td.run{max-width:26em;overflow-wrap:anywhere}"
    "code{font-size:11px}.note{font-size:12px}"
)


def _page(tables: dict[str, pd.DataFrame], inputs: Inputs, keys: dict[str, Key], img: str) -> str:
    summary = tables["summary"]
    title = f"Backtest of {inputs.tape}"
    e = html.escape
    inputs_table = "".join(f"<tr><th>{e(w)}</th><td>{e(v)}</td></tr>" for w, v in inputs.items())
    runs = "".join(
        f"<tr><td>{keys[str(r.run)].swatch()} {keys[str(r.run)].number}</td><td>{e(str(r.run))}"
        f"</td><td>{e(str(r.strategy))}</td><td><code>{e(str(r.params))}</code></td></tr>"
        for r in summary.itertuples()
    )
    metric_heads = "".join(f"<th>{e(h)}</th>" for _, h, _ in METRICS)
    metric_rows = "".join(
        f"<tr><td class='run'>{_key_cell(keys[run])}</td>"
        + "".join(f'<td class="n">{v}</td>' for v in vals)
        + "</tr>"
        for run, vals in summary_rows(summary)
    )
    outcome_heads = "".join(f"<th>{e(h)}</th>" for _, h in outcome_columns(summary))
    outcome_rows_ = "".join(
        f"<tr><td class='run'>{_key_cell(keys[run])}</td>"
        + "".join(f'<td class="n">{v}</td>' for v in vals)
        + "</tr>"
        for run, vals in outcome_rows(summary)
    )
    notes = [
        f"<li>{keys[str(r['run'])].number} {e(str(r['run']))}: {e(n)}</li>"
        for r in _records(summary)
        for n in run_notes(r, inputs.hours)
    ]
    refused = refused_lines(inputs.refused)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{e(title)}</h1>"
        f"<h2>Inputs</h2><table class='inputs'>{inputs_table}</table>"
        "<h2>Runs</h2><table class='runs'><tr><th>key</th><th>run</th><th>strategy</th>"
        f"<th>parameters (all, as run)</th></tr>{runs}</table>"
        f"<h2>Summary</h2><table class='summary'><tr><th>run</th>{metric_heads}</tr>"
        f"{metric_rows}</table><p class='note'>{e(DASH_NOTE)}. P&amp;L is marked to the curve "
        "mid of the delivery: at the trade, and on the curves 1 and 5 days later (a delivery "
        "the later curves cannot price counts 0).</p>"
        "<h2>RFQs by what happened to them</h2><table class='outcomes'><tr><th>run</th>"
        f"{outcome_heads}<th>RFQs</th></tr>{outcome_rows_}</table><p class='note'>A declined "
        "RFQ counts under the reason of its last decline; RFQs outside trading hours and "
        "RFQs that ended between two polls were never seen by the engine.</p>"
        + (f"<h2>Notes</h2><ul class='notes'>{''.join(notes)}</ul>" if notes else "")
        + (
            f"<h2>Refused tape rows</h2><pre class='refused'>{e(chr(10).join(refused))}</pre>"
            if refused
            else ""
        )
        + f"<h2>Plots</h2>{img}</body></html>"
    )


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _key_cell(key: Key) -> str:
    return f"{key.swatch()} {key.number} {html.escape(key.label)}"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _legend_below(figure: Figure, axis: Axes, keys: dict[str, Key]) -> None:
    handles = [
        Line2D([], [], color=k.colour, linestyle=k.style, linewidth=2) for k in keys.values()
    ]
    longest = max((len(k.legend) for k in keys.values()), default=0)
    columns = 1 if longest > 45 else 2 if longest > 25 else 3
    figure.legend(
        handles,
        [k.legend for k in keys.values()],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=columns,
        fontsize=8,
        frameon=False,
        title="runs",
    )


def _dates(axis: Axes) -> None:
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def pnl_figure(fills: pd.DataFrame, keys: dict[str, Key]) -> Figure:
    figure, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True, layout="constrained")
    marks = (("spread", "at the trade"), ("pnl_+5d", "marked on the curves 5 days later"))
    for axis, (column, title) in zip(axes, marks, strict=True):
        for run, key in keys.items():
            part = fills[fills.run == run].sort_values("traded_at") if len(fills) else fills
            if len(part):
                axis.plot(
                    part.traded_at,
                    part[column].fillna(0.0).cumsum(),  # no mid then: counted 0, as in the sums
                    color=key.colour,
                    linestyle=key.style,
                    linewidth=1.5,
                )
        axis.set_title(f"cumulative P&L, {title}", fontsize=10, loc="left")
        axis.set_ylabel("EUR")
        axis.yaxis.set_major_formatter(FuncFormatter(short_eur))
        axis.grid(alpha=0.3)
        if not len(fills):
            axis.text(0.5, 0.5, "no fills", ha="center", va="center", transform=axis.transAxes)
    if len(fills):
        _dates(axes[1])
    _legend_below(figure, axes[1], keys)
    return figure


def declines_figure(decisions: pd.DataFrame, keys: dict[str, Key]) -> Figure:
    declines = decisions[decisions.action == "decline"]
    reasons = declines.reason.fillna("unknown").value_counts().index.tolist()
    height = max(2.5, 0.25 * len(reasons) * max(1, len(keys)) ** 0.5 + 1.5)
    figure, axis = plt.subplots(figsize=(9, height), layout="constrained")
    if reasons:
        counts = (
            declines.assign(reason=declines.reason.fillna("unknown"))
            .groupby(["reason", "run"])
            .size()
            .unstack(fill_value=0)
            .reindex(index=reasons[::-1], columns=list(keys), fill_value=0)
        )
        bar = 0.8 / len(keys)
        for i, (run, key) in enumerate(keys.items()):
            positions = [y - 0.4 + bar * (len(keys) - 1 - i) + bar / 2 for y in range(len(reasons))]
            axis.barh(positions, counts[run], height=bar, color=key.colour)
        axis.set_yticks(range(len(reasons)), counts.index)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axis.grid(axis="x", alpha=0.3)
    else:
        axis.text(0.5, 0.5, "no declines", ha="center", va="center", transform=axis.transAxes)
        axis.set_xticks([])
        axis.set_yticks([])
    axis.set_title("declines by reason (decisions)", fontsize=10, loc="left")
    _legend_below(figure, axis, keys)
    return figure


INVENTORY_RUNS = 6  # panels at most: a sweep's further runs are in the inventory table
INVENTORY_BUCKETS = 6  # the largest delivery buckets of each run


def inventory_figure(inventory: pd.DataFrame, keys: dict[str, Key]) -> Figure:
    """A panel per run (the first INVENTORY_RUNS), on shared axes: the position of the run's
    largest delivery buckets after each fill. A bucket has one colour in every panel."""
    shown = list(keys.values())[:INVENTORY_RUNS]
    figure, axes = plt.subplots(
        len(shown),
        1,
        figsize=(9, 1.2 + 2.3 * len(shown)),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    largest = {key.label: _largest_buckets(inventory, key.label) for key in shown}
    colours = _bucket_colours([b for buckets in largest.values() for b in buckets])
    any_fill = False
    for axis, key in zip(axes[:, 0], shown, strict=True):
        part = inventory[inventory.run == key.label] if len(inventory) else inventory
        for area, month in largest[key.label]:
            bucket = part[(part.market_area == area) & (part.month == month)]
            axis.step(
                bucket["at"],
                bucket.position_mwh,
                where="post",
                color=colours[(area, month)],
                label=f"{area} {month}",
            )
        if largest[key.label]:
            any_fill = True
            axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        else:
            axis.text(0.5, 0.5, "no fills", ha="center", va="center", transform=axis.transAxes)
        axis.set_title(f"run {key.legend}", fontsize=9, loc="left")
        axis.set_ylabel("MWh")
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axis.grid(alpha=0.3)
    if any_fill:
        _dates(axes[-1, 0])
    more = (
        f" (runs 1-{len(shown)} of {len(keys)}: the table has every run)"
        if len(keys) > len(shown)
        else ""
    )
    figure.suptitle(
        f"inventory: each run's {INVENTORY_BUCKETS} largest delivery buckets{more}",
        fontsize=10,
        x=0.01,
        ha="left",
    )
    return figure


def _largest_buckets(inventory: pd.DataFrame, run: str) -> list[tuple[str, str]]:
    """The run's delivery buckets whose position was largest at some point, largest first."""
    part = inventory[inventory.run == run] if len(inventory) else inventory
    if not len(part):
        return []
    peaks = part.groupby(["market_area", "month"]).position_mwh.apply(lambda s: s.abs().max())
    return [(str(a), str(m)) for a, m in peaks.nlargest(INVENTORY_BUCKETS).index]


def _bucket_colours(buckets: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A colour per bucket, in order of first appearance: the same bucket alike in every panel."""
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours: dict[tuple[str, str], str] = {}
    for bucket in buckets:
        colours.setdefault(bucket, palette[len(colours) % len(palette)])
    return colours
