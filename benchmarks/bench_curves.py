"""Curve throughput: reading a 3-year hourly file of 5 series (CSV and Parquet, ~130k rows),
building curves from forward products, and making the synthetic curve set."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from quoter.pricing.builder import build_curve_set
from quoter.pricing.curve_export import write_curve_set
from quoter.pricing.curve_files import load_curve_set
from quoter.pricing.synthetic import synthetic_curve_set, synthetic_products

AS_OF = datetime(2026, 1, 5, 9, tzinfo=UTC)
REPEATS = 5


def _best_s(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def run() -> None:
    curves = synthetic_curve_set(AS_OF, years=2)  # Jan 2026 to the end of 2028: 3 years hourly
    rows = sum(s.prices.size for s in curves.values())
    print(f"curve file: {len(curves)} series, {rows} rows")
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".csv", ".parquet"):
            path = Path(folder) / f"curves{suffix}"
            write_curve_set(curves, path)
            load = load_curve_set(path)
            assert load.problems == ()
            assert load.curve_set.id == curves.id
            seconds = _best_s(partial(load_curve_set, path))
            size_mb = path.stat().st_size / 1e6
            print(
                f"load {suffix:8} {size_mb:6.1f} MB  {seconds * 1e3:7.1f} ms  {rows / seconds:12,.0f} rows/s"
            )
    products = synthetic_products(AS_OF, years=3)
    seconds = _best_s(lambda: build_curve_set(products, AS_OF))
    print(f"build    {len(products)} products, 5 series to Cal+3: {seconds * 1e3:7.1f} ms")
    seconds = _best_s(lambda: synthetic_curve_set(AS_OF, years=3))
    print(f"synthetic curve set (years=3):          {seconds * 1e3:7.1f} ms")


if __name__ == "__main__":
    run()
