"""Small constructors for metric families, so the collectors read as lists of metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from quoter.basics.histogram import BucketCounts


def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    """`name` without `_total`; the exposition adds it."""
    return CounterMetricFamily(name, doc, value=value)


def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def labelled_counter(
    name: str, doc: str, label: str, values: Mapping[str, float]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def labelled_gauge(
    name: str, doc: str, label: str, values: Mapping[str, float]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def histogram(name: str, doc: str, counts: BucketCounts) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=[])
    family.add_metric([], counts.cumulative(), counts.sum)
    return family


def labelled_histogram(
    name: str,
    doc: str,
    labels: tuple[str, ...],
    series: Iterable[tuple[tuple[str, ...], BucketCounts]],
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=list(labels))
    for values, counts in sorted(series, key=lambda item: item[0]):
        family.add_metric(list(values), counts.cumulative(), counts.sum)
    return family
