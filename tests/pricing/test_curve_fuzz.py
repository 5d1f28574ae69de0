"""Curve files broken and implausible in many ways, generated from seeds: each is refused
cleanly (a problem naming the file, and the row and column where there is one; no exception
escapes the loader), and good ones load. `python -m tests.pricing.test_curve_fuzz` prints the
table of what was tried."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quoter.domain.market import Commodity
from quoter.pricing.config import CurvesConfig
from quoter.pricing.curve import CurveSet
from quoter.pricing.curve_checks import plausibility
from quoter.pricing.curve_files import CurveLoad, RefusalReason, load_curve_set

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = "2026-03-02T06:00:00Z"
START = pd.Timestamp("2026-03-31T22:00:00Z")  # April, Berlin time
DE = (Commodity.POWER, "DE")
HEADER = "commodity,market_area,start,price,as_of"
VARIANTS = 12


@dataclass(frozen=True)
class Case:
    """One generated file and what the loader must make of it: refused for `reason`, naming
    `column` and the CSV line `row` (None: not checked), or accepted (`reason` None)."""

    name: str
    content: bytes
    reason: RefusalReason | None
    column: str | None = None
    row: int | None = None
    suffix: str = ".csv"
    cut_short: bool = False  # accepted as a shorter curve, or refused: either is clean


def prices(rng: random.Random, hours: int) -> list[float]:
    """A plausible German hourly curve: 28..91 EUR/MWh with a daily shape and noise."""
    level = rng.uniform(40, 75)
    return [
        round(float(level + 15 * np.sin(2 * np.pi * (h % 24) / 24) + rng.uniform(-3, 3)), 2)
        for h in range(hours)
    ]


def rows(values: list[float], *, as_of: str = AS_OF, area: str = "DE") -> list[str]:
    starts = pd.date_range(START, periods=len(values), freq="h").tz_convert("Europe/Berlin")
    return [
        f"power,{area},{s.isoformat()},{v!r},{as_of}" for s, v in zip(starts, values, strict=True)
    ]


def csv(lines: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def good(rng: random.Random, hours: int = 96) -> list[str]:
    return rows(prices(rng, hours))


def replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


def cases(seed: int) -> list[Case]:
    """Every kind of file once, drawn from `seed`."""
    rng = random.Random(seed)
    base = prices(rng, 96)
    lines = rows(base)
    at = rng.randrange(len(lines))
    line_no = at + 2  # the header is line 1
    bad_price = rng.choice(["nan", "NaN", "inf", "-inf", "Infinity"])
    bad_text = rng.choice(["abc", "true", "12,5", "1e", "€90", "--1"])
    bad_start = rng.choice(
        ["2026-04-01", "yesterday", "2026-04-01T25:00:00+02:00", "2026-13-01T00:00:00Z", ""]
    )
    off_grid = (START + pd.Timedelta(minutes=rng.choice([7, 20, 30]))).isoformat()
    future = rng.choice(["2099-01-01T00:00:00Z", (NOW + timedelta(hours=1)).isoformat()])
    duplicated = [*lines[: at + 1], lines[at], *lines[at + 1 :]]
    gap = lines[:at] + lines[at + 1 :] if 0 < at < len(lines) - 1 else lines[1:2] + lines[3:]
    huge = csv(rows(prices(rng, 24 * 400)))
    factor = rng.choice([3.0, 0.2, 1.8])
    return [
        Case("good", csv(lines), None),
        Case("good, 15-minute", csv(quarter_hours(base)), None),
        Case("good, negative hours", csv(rows([*base[:10], -50.0, -5.0, *base[12:]])), None),
        Case(
            "wrong units (/1000)",
            csv(rows([p / 1000 for p in base])),
            RefusalReason.IMPLAUSIBLE_LEVEL,
            "price",
        ),
        Case(
            "wrong units (x1000)",
            csv(rows([p * 1000 for p in base])),
            RefusalReason.IMPLAUSIBLE_LEVEL,
            "price",
            2,
        ),
        Case(
            "NaN or inf price",
            csv([*lines[:at], replace_field(lines[at], 3, bad_price), *lines[at + 1 :]]),
            RefusalReason.SYNTAX,
            "price",
            line_no,
        ),
        Case(
            "price not a number",
            csv([*lines[:at], replace_field(lines[at], 3, bad_text), *lines[at + 1 :]]),
            RefusalReason.SYNTAX,
            None,
        ),
        Case(
            "price empty",
            csv([*lines[:at], replace_field(lines[at], 3, ""), *lines[at + 1 :]]),
            RefusalReason.SYNTAX,
            "price",
            line_no,
        ),
        Case("future as_of", csv(rows(base, as_of=future)), RefusalReason.FUTURE_AS_OF, "as_of"),
        Case(
            "as_of not a timestamp", csv(rows(base, as_of="soon")), RefusalReason.SYNTAX, "as_of", 2
        ),
        Case("header only", csv([]), RefusalReason.EMPTY),
        Case("empty file", b"", RefusalReason.EMPTY),
        Case("blank lines only", csv(["", "", ""]), RefusalReason.EMPTY),
        Case("duplicated interval", csv(duplicated), RefusalReason.SYNTAX, "start"),
        Case("missing interval", csv(gap), RefusalReason.SYNTAX, "start"),
        Case(
            "bad timestamp",
            csv([*lines[:at], replace_field(lines[at], 2, bad_start), *lines[at + 1 :]]),
            RefusalReason.SYNTAX,
            "start",
            line_no,
        ),
        Case(
            "timestamp off the grid",
            csv([replace_field(lines[0], 2, off_grid), *lines[1:]]),
            RefusalReason.SYNTAX,
            "start",
        ),
        Case("unknown area", csv(rows(base, area="XX")), RefusalReason.SYNTAX, "market_area", 2),
        Case(
            "missing column",
            csv([",".join(line.split(",")[:3]) for line in lines], "commodity,market_area,start"),
            RefusalReason.SYNTAX,
            "price",
            1,
        ),
        Case(
            "extra fields",
            csv([*lines[:at], lines[at] + ",1,2", *lines[at + 1 :]]),
            RefusalReason.SYNTAX,
            None,
        ),
        Case("binary garbage", rng.randbytes(2000), RefusalReason.SYNTAX),
        Case("not UTF-8", csv(lines).replace(b"power", b"p\xffwer", 1), RefusalReason.SYNTAX),
        Case(
            "huge file cut short",
            huge[: rng.randrange(len(huge) // 3, len(huge) - 10)],
            None,
            cut_short=True,
        ),
        Case(
            "parquet cut short",
            parquet(base)[: rng.randrange(100, 2000)],
            RefusalReason.SYNTAX,
            suffix=".parquet",
        ),
        Case(
            "parquet, price as text",
            parquet(base, price_as_text=True),
            RefusalReason.SYNTAX,
            "price",
            suffix=".parquet",
        ),
        Case(
            "parquet, naive timestamps",
            parquet(base, naive=True),
            RefusalReason.SYNTAX,
            "start",
            suffix=".parquet",
        ),
        Case("parquet, good", parquet(base), None, suffix=".parquet"),
        Case(
            f"jump (x{factor:g} of last good)",
            csv(rows([p * factor for p in base])),
            RefusalReason.JUMP,
            "price",
            2,
        ),
    ]


def quarter_hours(values: list[float]) -> list[str]:
    starts = pd.date_range(START, periods=4 * len(values), freq="15min").tz_convert("Europe/Berlin")
    return [f"power,DE,{s.isoformat()},{values[i // 4]!r},{AS_OF}" for i, s in enumerate(starts)]


def parquet(values: list[float], *, price_as_text: bool = False, naive: bool = False) -> bytes:
    starts = pd.date_range(START, periods=len(values), freq="h")
    frame = pd.DataFrame(
        {
            "commodity": "power",
            "market_area": "DE",
            "start": starts.tz_localize(None) if naive else starts,
            "price": [f"x{v}" for v in values] if price_as_text else values,
            "as_of": pd.Timestamp(AS_OF),
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def last_good(case: Case, seed: int, folder: Path) -> CurveSet:
    """What a jump is measured against: the seed's good file, loaded before."""
    if not case.name.startswith("jump"):
        return CurveSet({})
    return _load_bytes(folder, "last-good.csv", cases(seed)[0].content, CurveSet({}))


def _load_bytes(folder: Path, name: str, content: bytes, previous: CurveSet) -> CurveSet:
    file = folder / name
    file.write_bytes(content)
    return load_curve_set(file, plausibility(CurvesConfig(), previous, NOW)).curve_set


Verdict = str  # "refused cleanly", "accepted rightly", or what went wrong


def judge(case: Case, folder: Path, previous: CurveSet) -> Verdict:
    file = folder / f"curve{case.suffix}"
    file.write_bytes(case.content)
    try:
        load = load_curve_set(file, plausibility(CurvesConfig(), previous, NOW))
    except Exception as error:
        return f"crashed: {type(error).__name__}: {error}"
    return _verdict(case, load, str(file))


def _verdict(case: Case, load: CurveLoad, name: str) -> Verdict:
    if case.cut_short and DE in load.curve_set:
        # Cut at a line's end or in a price: a shorter, valid curve (a torn last line that
        # names no series of its own is refused on its own).
        return "accepted rightly"
    if case.reason is None and not case.cut_short:
        if load.problems or DE not in load.curve_set:
            return f"wrongly refused: {[str(p) for p in load.problems]}"
        return "accepted rightly"
    if DE in load.curve_set:
        return "wrongly accepted"
    if not load.problems:
        return "refused without a problem"
    problem = load.problems[0]
    if not problem.file.endswith(Path(name).name):
        return f"file not named: {problem}"
    if not case.cut_short and problem.reason is not case.reason:
        return f"reason {problem.reason}, expected {case.reason}: {problem}"
    if case.column is not None and problem.column != case.column:
        return f"column {problem.column}, expected {case.column}: {problem}"
    if case.row is not None and problem.row != case.row:
        return f"row {problem.row}, expected {case.row}: {problem}"
    if "Traceback" in problem.message:
        return "traceback in the message"
    return "refused cleanly"


def fuzz(folder: Path, seeds: range) -> dict[str, dict[str, int]]:
    """kind -> {verdict: count} over every seed."""
    table: dict[str, dict[str, int]] = {}
    for seed in seeds:
        for case in cases(seed):
            kind = case.name.split(" (")[0] if case.name.startswith("jump") else case.name
            verdict = judge(case, folder, last_good(case, seed, folder))
            counts = table.setdefault(kind, {})
            counts[verdict] = counts.get(verdict, 0) + 1
    return table


OK = {"refused cleanly", "accepted rightly"}


@pytest.mark.parametrize("seed", range(VARIANTS))
def test_every_generated_file_is_refused_cleanly_or_accepted_rightly(
    seed: int, tmp_path: Path
) -> None:
    wrong = {}
    for case in cases(seed):
        verdict = judge(case, tmp_path, last_good(case, seed, tmp_path))
        if verdict not in OK:
            wrong[case.name] = verdict
    assert wrong == {}


def test_the_units_mistake_is_refused_with_what_it_is_and_the_file_named(tmp_path: Path) -> None:
    case = next(c for c in cases(0) if c.name == "wrong units (/1000)")
    file = tmp_path / "export.csv"
    file.write_bytes(case.content)
    load = load_curve_set(file, plausibility(CurvesConfig(), CurveSet({}), NOW))
    (problem,) = load.problems
    assert problem.series == ("power", "DE")
    assert problem.reason is RefusalReason.IMPLAUSIBLE_LEVEL
    assert str(problem).startswith(f"{file}, column price [power/DE]: mean price 0.0")
    assert "below the plausible 1 for power/DE: is the file in EUR/kWh?" in str(problem)


def test_a_band_per_area_overrides_its_commodity(tmp_path: Path) -> None:
    content = cases(0)[0].content
    config = CurvesConfig.model_validate(
        {"bands_by_area": {"DE": {"min_eur_mwh": 0, "max_eur_mwh": 50, "min_mean_eur_mwh": 1}}}
    )
    file = tmp_path / "c.csv"
    file.write_bytes(content)
    (problem,) = load_curve_set(file, plausibility(config, CurveSet({}), NOW)).problems
    assert problem.reason is RefusalReason.IMPLAUSIBLE_LEVEL
    assert problem.column == "price"
    assert problem.row is not None
    assert config.band_for(Commodity.GAS, "THE").max_eur_mwh == 1000.0


def render(table: dict[str, dict[str, int]]) -> str:
    head = (
        "| input kind | tried | refused cleanly | accepted rightly | crashed or traceback | other |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for kind, counts in table.items():
        tried = sum(counts.values())
        crashed = sum(n for v, n in counts.items() if v.startswith("crashed") or "traceback" in v)
        refused, accepted = counts.get("refused cleanly", 0), counts.get("accepted rightly", 0)
        other = tried - refused - accepted - crashed
        lines.append(f"| {kind} | {tried} | {refused} | {accepted} | {crashed} | {other} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(render(fuzz(Path(folder), range(VARIANTS))))
