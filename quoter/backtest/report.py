"""The HTML report of a backtest: the summary table and plots (matplotlib PNGs inlined as
base64, so the report is one self-contained file), plus every table as Parquet and CSV."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _pnl_plot(fills: pd.DataFrame) -> str:
    figure, axis = plt.subplots(figsize=(8, 3.5))
    for run, part in fills.groupby("run", sort=True) if len(fills) else []:
        ordered = part.sort_values("traded_at")
        axis.plot(ordered.traded_at, ordered.spread.cumsum(), label=f"{run} at trade")
        axis.plot(ordered.traded_at, ordered["pnl_+5d"].cumsum(), "--", label=f"{run} +5d")
    axis.set_title("cumulative P&L (EUR)")
    if len(fills):
        axis.legend(fontsize=7)
    else:
        axis.text(0.5, 0.5, "no fills", ha="center", va="center", transform=axis.transAxes)
    figure.autofmt_xdate()
    return _png(figure)


def _inventory_plot(inventory: pd.DataFrame) -> str:
    figure, axis = plt.subplots(figsize=(8, 3.5))
    if len(inventory):
        first = inventory[inventory.run == inventory.run.iloc[0]]
        keys = first.groupby(["market_area", "month"]).position_mwh.apply(lambda s: s.abs().max())
        for area, month in keys.nlargest(6).index:
            part = first[(first.market_area == area) & (first.month == month)]
            axis.step(part["at"], part.position_mwh, where="post", label=f"{area} {month}")
        axis.set_title(f"inventory per delivery bucket (MWh), run {first.run.iloc[0]}")
        axis.legend(fontsize=7)
    figure.autofmt_xdate()
    return _png(figure)


def _declines_plot(decisions: pd.DataFrame) -> str:
    figure, axis = plt.subplots(figsize=(8, 3.5))
    declines = decisions[decisions.action == "decline"]
    if len(declines):
        counts = declines.groupby(["reason", "run"]).size().unstack(fill_value=0)
        counts.plot.barh(ax=axis)
    axis.set_title("declines by reason")
    return _png(figure)


def write_report(tables: dict[str, pd.DataFrame], out: Path, title: str) -> Path:
    """`out/report.html` with the summary and the plots; returns its path."""
    summary = tables["summary"]
    images = [
        _pnl_plot(tables["fills"]),
        _inventory_plot(tables["inventory"]),
        _declines_plot(tables["decisions"]),
    ]
    body = "".join(f'<p><img src="data:image/png;base64,{i}"></p>' for i in images)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"{summary.T.to_html(header=False, float_format=lambda v: f'{v:,.3f}')}{body}"
        "</body></html>"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
