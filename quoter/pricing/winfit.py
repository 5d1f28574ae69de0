"""The win curve a `win_curve` strategy quotes from: per segment of the flow, the probability
that a quote `markup` EUR/MWh away from the mid (on our side) wins, f(d) = 1 / (1 + e^(a + b d)),
and the markup that maximises the expected profit d * f(d). Light on purpose (no numpy, no
pandas): the strategy reads its fit file through `load_fit` when it is built.

The fit file (JSON, written by `write_fit`, fitted by `quoter.backtest.segments`):

    schema          int       FIT_SCHEMA
    fit-id          text      a hash of the segments' numbers: the strategy's version in the audit
    created-at      instant   when it was fitted
    source          text      what it was fitted from
    prior-weight    number    pseudo-observations of the pooled fit each segment was shrunk toward
    tenor-days      [number]  ascending bounds of the tenor buckets (days to delivery start)
    size-mw         [number]  ascending bounds of the size buckets
    counterparties  {id: group} | null   null: the fit does not segment by counterparty
    pooled          {a, b, n, wins, log-loss, baseline-log-loss}
    segments        {key: {a, b, n, wins, log-loss, baseline-log-loss}}

A segment key is `commodity/area|tenor|size|one-way or two-way|counterparty group`, as
`segment_key` spells it. b must be > 0: otherwise the win probability does not fall as the markup
grows, and no markup maximises the expected profit.
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

FIT_SCHEMA = 1
TENOR_DAYS = (7.0, 31.0, 92.0, 366.0)
SIZE_MW = (25.0, 100.0, 500.0)
ALL_COUNTERPARTIES, OTHER_COUNTERPARTIES = "all", "other"
MAX_ABS_A = 50.0  # beyond this a segment wins (or loses) everything: no curve was learnt
SOLVER_TOLERANCE = 1e-12


class WinFitError(Exception):
    """A fit file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class SegmentFit:
    a: float
    b: float
    n: int
    wins: int
    log_loss: float
    baseline_log_loss: float

    def win_probability(self, markup_eur_mwh: float) -> float:
        z = self.a + self.b * markup_eur_mwh
        return 1.0 / (1.0 + math.exp(min(700.0, max(-700.0, z))))


@dataclass(frozen=True, slots=True)
class WinFit:
    fit_id: str
    created_at: str
    source: str
    prior_weight: float
    pooled: SegmentFit
    segments: Mapping[str, SegmentFit]
    tenor_days: tuple[float, ...] = TENOR_DAYS
    size_mw: tuple[float, ...] = SIZE_MW
    counterparties: Mapping[str, str] | None = None

    def segment(self, key: str) -> tuple[str, SegmentFit]:
        """The segment's fit, or the pooled one for a segment the fit has not seen."""
        fit = self.segments.get(key)
        return (key, fit) if fit is not None else ("pooled", self.pooled)


def optimal_markup(a: float, b: float) -> float:
    """The markup d* > 0 maximising d * f(d), f(d) = 1 / (1 + e^(a + b d)), b > 0: the root of
    x = 1 + e^(-a - x) for x = b d (x = 1 + W(e^(-a-1)), W the Lambert function). g(x) =
    x - 1 - e^(-a-x) is increasing and concave, so Newton's method from a point left of the root
    (g < 0) climbs to it monotonically; the start is 1 + ln z - ln ln z (z = e^(-a-1)) where
    that is left of the root, else 1."""
    if not (b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"a={a}, b={b}: need finite a and b > 0")
    log_z = -a - 1.0
    x = 1.0
    if log_z > 1.0:
        guess = 1.0 + log_z - math.log(log_z)
        if _condition(a, guess) < 0:
            x = guess
    for _ in range(200):
        e = math.exp(min(700.0, -a - x))
        step = (x - 1.0 - e) / (1.0 + e)
        x -= step
        if abs(step) <= SOLVER_TOLERANCE * x:
            break
    return x / b


def _condition(a: float, x: float) -> float:
    return x - 1.0 - math.exp(min(700.0, -a - x))


def bucket_label(value: float, bounds: tuple[float, ...], unit: str) -> str:
    """`<=7d`, `7-31d`, ..., `>366d`: the bucket `value` falls in (a bound belongs below)."""
    return _label(bisect_left(bounds, value), bounds, unit)


def _label(i: int, bounds: tuple[float, ...], unit: str) -> str:
    if i == 0:
        return f"<={bounds[0]:g}{unit}"
    if i == len(bounds):
        return f">{bounds[-1]:g}{unit}"
    return f"{bounds[i - 1]:g}-{bounds[i]:g}{unit}"


def counterparty_group(requester_id: str, counterparties: Mapping[str, str] | None) -> str:
    if counterparties is None:
        return ALL_COUNTERPARTIES
    return counterparties.get(requester_id, OTHER_COUNTERPARTIES)


Parts = tuple[str, str, int, int, bool, str]
"""A segment as values: commodity, area, tenor and size bucket indices, two-way, group."""


def segment_parts(
    commodity: str,
    area: str,
    days_ahead: float,
    quantity_mw: float,
    two_way: bool,
    group: str,
    tenor_days: tuple[float, ...] = TENOR_DAYS,
    size_mw: tuple[float, ...] = SIZE_MW,
) -> Parts:
    tenor = bisect_left(tenor_days, max(0.0, days_ahead))
    return (commodity, area, tenor, bisect_left(size_mw, quantity_mw), two_way, group)


def key_of_parts(
    parts: Parts, tenor_days: tuple[float, ...] = TENOR_DAYS, size_mw: tuple[float, ...] = SIZE_MW
) -> str:
    commodity, area, tenor, size, two_way, group = parts
    tenor_label = _label(tenor, tenor_days, "d")
    size_label = _label(size, size_mw, "MW")
    way = "two-way" if two_way else "one-way"
    return f"{commodity}/{area}|{tenor_label}|{size_label}|{way}|{group}"


def parts_of_key(
    key: str, tenor_days: tuple[float, ...] = TENOR_DAYS, size_mw: tuple[float, ...] = SIZE_MW
) -> Parts | None:
    """`key` as values, if it is one `key_of_parts` spells with these bounds."""
    try:
        place, tenor_label, size_label, way, group = key.split("|")
        commodity, area = place.split("/", 1)
    except ValueError:
        return None
    tenors = [_label(i, tenor_days, "d") for i in range(len(tenor_days) + 1)]
    sizes = [_label(i, size_mw, "MW") for i in range(len(size_mw) + 1)]
    if tenor_label not in tenors or size_label not in sizes or way not in ("one-way", "two-way"):
        return None
    two_way = way == "two-way"
    return (commodity, area, tenors.index(tenor_label), sizes.index(size_label), two_way, group)


def segment_key(
    commodity: str,
    area: str,
    days_ahead: float,
    quantity_mw: float,
    two_way: bool,
    group: str,
    tenor_days: tuple[float, ...] = TENOR_DAYS,
    size_mw: tuple[float, ...] = SIZE_MW,
) -> str:
    parts = segment_parts(
        commodity, area, days_ahead, quantity_mw, two_way, group, tenor_days, size_mw
    )
    return key_of_parts(parts, tenor_days, size_mw)


def fit_id_of(pooled: SegmentFit, segments: Mapping[str, SegmentFit]) -> str:
    numbers = {k: (s.a, s.b, s.n, s.wins) for k, s in sorted(segments.items())}
    text = json.dumps([(pooled.a, pooled.b, pooled.n, pooled.wins), numbers], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def fit_document(fit: WinFit) -> dict[str, object]:
    return {
        "schema": FIT_SCHEMA,
        "fit-id": fit.fit_id,
        "created-at": fit.created_at,
        "source": fit.source,
        "prior-weight": fit.prior_weight,
        "tenor-days": list(fit.tenor_days),
        "size-mw": list(fit.size_mw),
        "counterparties": None if fit.counterparties is None else dict(fit.counterparties),
        "pooled": _segment_document(fit.pooled),
        "segments": {k: _segment_document(s) for k, s in sorted(fit.segments.items())},
    }


def write_fit(fit: WinFit, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fit_document(fit), indent=2) + "\n", encoding="utf-8")


def load_fit(path: Path | str) -> WinFit:
    """The fit in `path`, checked; anything missing, mistyped or implausible is refused."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WinFitError(f"{path}: cannot read: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WinFitError(f"{path}: not a JSON fit file: {error}") from None
    return parse_fit(document, str(path))


def parse_fit(document: object, source: str) -> WinFit:
    doc = _mapping(document, source, "(the file)")
    schema = doc.get("schema")
    if schema != FIT_SCHEMA:
        raise WinFitError(f"{source}: schema: {schema!r}, this quoter reads {FIT_SCHEMA}")
    segments_doc = _mapping(doc.get("segments"), source, "segments")
    groups = doc.get("counterparties")
    counterparties: dict[str, str] | None = None
    if groups is not None:
        counterparties = {
            str(k): v
            for k, v in _mapping(groups, source, "counterparties").items()
            if isinstance(v, str)
        }
        if len(counterparties) != len(_mapping(groups, source, "counterparties")):
            raise WinFitError(f"{source}: counterparties: every group must be text")
    return WinFit(
        fit_id=_text(doc, source, "fit-id"),
        created_at=_text(doc, source, "created-at"),
        source=_text(doc, source, "source"),
        prior_weight=_number(doc.get("prior-weight"), source, "prior-weight", low=0.0),
        pooled=_segment(doc.get("pooled"), source, "pooled"),
        segments=MappingProxyType(
            {str(k): _segment(v, source, f"segments[{k!r}]") for k, v in segments_doc.items()}
        ),
        tenor_days=_bounds(doc.get("tenor-days"), source, "tenor-days"),
        size_mw=_bounds(doc.get("size-mw"), source, "size-mw"),
        counterparties=None if counterparties is None else MappingProxyType(counterparties),
    )


def _segment_document(s: SegmentFit) -> dict[str, object]:
    return {
        "a": s.a,
        "b": s.b,
        "n": s.n,
        "wins": s.wins,
        "log-loss": s.log_loss,
        "baseline-log-loss": s.baseline_log_loss,
    }


def _segment(value: object, source: str, where: str) -> SegmentFit:
    doc = _mapping(value, source, where)
    a = _number(doc.get("a"), source, f"{where}.a")
    b = _number(doc.get("b"), source, f"{where}.b")
    if abs(a) > MAX_ABS_A:
        raise WinFitError(f"{source}: {where}.a: {a} is implausible (|a| > {MAX_ABS_A:g})")
    if b <= 0:
        raise WinFitError(
            f"{source}: {where}.b: {b} <= 0: the win probability does not fall as the markup "
            "grows, so no markup maximises the expected profit"
        )
    n, wins = doc.get("n"), doc.get("wins")
    if type(n) is not int or type(wins) is not int or not 0 <= wins <= n:
        raise WinFitError(f"{source}: {where}.n/wins: need whole numbers, 0 <= wins <= n")
    return SegmentFit(
        a,
        b,
        n,
        wins,
        _number(doc.get("log-loss"), source, f"{where}.log-loss", low=0.0),
        _number(doc.get("baseline-log-loss"), source, f"{where}.baseline-log-loss", low=0.0),
    )


def _mapping(value: object, source: str, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise WinFitError(f"{source}: {where}: expected an object, not {type(value).__name__}")
    return value


def _text(doc: Mapping[str, object], source: str, where: str) -> str:
    value = doc.get(where)
    if not isinstance(value, str) or not value:
        raise WinFitError(f"{source}: {where}: expected text")
    return value


def _number(value: object, source: str, where: str, low: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WinFitError(f"{source}: {where}: expected a finite number, not {value!r:.40}")
    if low is not None and value < low:
        raise WinFitError(f"{source}: {where}: {value} is below {low:g}")
    return float(value)


def _bounds(value: object, source: str, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise WinFitError(f"{source}: {where}: expected a non-empty list of numbers")
    bounds = tuple(_number(v, source, where) for v in value)
    if list(bounds) != sorted(set(bounds)):
        raise WinFitError(f"{source}: {where}: bounds must be strictly ascending")
    return bounds
