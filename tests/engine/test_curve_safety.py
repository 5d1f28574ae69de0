"""Fail safe on a bad curve, over HTTP against the sandbox: a curve in the wrong unit sends no
quote and is shown in status, metrics and the audit; a price no curve or strategy can make
plausible is refused by the price band."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from quoter.domain import Commodity, Rfq
from quoter.engine.curve_watch import CurveStore
from quoter.engine.status import render_status, status_of
from quoter.metrics.collector import build_registry
from quoter.pricing.config import CurvesConfig
from quoter.pricing.curve import CurveSeries, CurveSet
from quoter.pricing.curve_export import write_curve_set
from quoter.pricing.valuation import value_instrument
from quoter.risk.config import DEMO_RISK, PriceBand
from quoter.strategies_api import Decision, Decline, MarketSnapshot, build_quote
from quoter.venue.http import HttpVenue
from tests.engine.harness import (
    CURVES,
    Running,
    audit_records,
    eventually,
    fast_sandbox,
    month_ahead,
    running_engine,
)
from tests.venue.contract import counters, new_rfq


def scaled(curves: CurveSet, factor: float) -> CurveSet:
    return CurveSet(
        {
            key: CurveSeries(
                s.commodity, s.market_area, s.start_s, s.step_s, s.prices * factor, s.as_of, "x"
            )
            for key, s in curves.items()
        }
    )


def samples(bot: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    venue = cast("HttpVenue", bot.deps.venue)
    text = generate_latest(build_registry(bot.deps, bot.desk, venue.stats)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_curve_in_eur_per_kwh_sends_no_quote_and_says_so_everywhere(
    tmp_path: Path,
) -> None:
    export = tmp_path / "curves.parquet"  # quicker than CSV to write and read: same checks
    write_curve_set(scaled(CURVES, 1 / 1000), export)  # an export in EUR/kWh
    store = CurveStore(export, config=CurvesConfig())
    async with fast_sandbox() as sandbox:
        await store.refresh(sandbox.clock.now())
        async with running_engine(sandbox, tmp_path, curves=store) as bot:
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: sum(bot.desk.stats.declined.values()) >= 1, "a decline")
            assert bot.desk.stats.quotes_sent == 0
            assert (await counters(sandbox))["live-quotes"] == 0
            assert dict(bot.desk.stats.declined) == {"no-curve": 1}
            status = status_of(bot.deps, bot.desk, bot.engine.last_plan)
            metrics = samples(bot)
    curves = cast("dict[str, object]", status["curves"])
    problems = cast("list[dict[str, object]]", curves["problems"])
    de = next(p for p in problems if p["series"] == "power/DE")
    assert de["usable"] is False
    assert str(cast("list[str]", de["reasons"])[0]).startswith("implausible-level: ")
    line = next(x for x in render_status(status).splitlines() if x.startswith("curves"))
    assert line.startswith("curves  usable 0  refused gas/THE (implausible-level), ")
    assert "power/DE (implausible-level)" in line
    assert line.endswith(
        "missing gas/CEGH-VTP, gas/PEG, gas/PSV, gas/ZTP, power/AT, power/BE, power/CH"
    )
    assert curves["usable"] == 0
    usable = ("quoter_curve_usable", (("area", "DE"), ("commodity", "power")))
    assert metrics[usable] == 0.0
    refusals = ("quoter_curve_refusals_total", (("reason", "implausible-level"),))
    assert metrics[refusals] == len(CURVES)  # every series of the export, each refused
    assert metrics[("quoter_curve_refusals_total", (("reason", "missing"),))] == 12 - len(CURVES)
    refused = audit_records(tmp_path, "curve-refused")
    de_record = next(r for r in refused if r["series"] == "power/DE")
    assert de_record["reason"] == "implausible-level"
    assert de_record["file"] == str(export)
    assert de_record["column"] == "price"
    assert de_record["kept-last-good"] is False
    assert audit_records(tmp_path, "quote-intent") == []


async def test_a_reload_in_the_wrong_unit_keeps_the_last_good_curve_quoting(
    tmp_path: Path,
) -> None:
    export = tmp_path / "curves.parquet"  # quicker than CSV to write and read: same checks
    write_curve_set(CURVES, export)
    store = CurveStore(export, config=CurvesConfig())
    async with fast_sandbox() as sandbox:
        await store.refresh(sandbox.clock.now())
        async with running_engine(sandbox, tmp_path, curves=store) as bot:
            good = store.current
            write_curve_set(scaled(CURVES, 1 / 1000), export)
            assert await store.refresh(sandbox.clock.now())
            await eventually(lambda: bool(audit_records(tmp_path, "curve-refused")), "a record")
            assert store.current is not good  # a new set, of the same old series
            assert store.current.id == good.id
            await new_rfq(sandbox, **month_ahead())
            await eventually(lambda: bot.desk.stats.quotes_sent == 1, "a quote on the good curve")
            metrics = samples(bot)
    usable = ("quoter_curve_usable", (("area", "DE"), ("commodity", "power")))
    assert metrics[usable] == 1.0
    assert metrics[("quoter_curve_refusals_total", (("reason", "implausible-level"),))] > 0
    record = next(r for r in audit_records(tmp_path, "curve-refused") if r["series"] == "power/DE")
    assert record["kept-last-good"] is True
    intent = audit_records(tmp_path, "quote-intent")[0]
    assert 20 < intent["decision"]["mid"] < 200


@dataclass(frozen=True)
class FivefoldCurve:
    """Prices five times the curve and calls that the mid (the price is within the venue's
    own limits): a collar measured from the strategy's mid would not see it."""

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Decision:
        valued = value_instrument(rfq.instrument, market.shape, market.curves)
        if isinstance(valued, Decline):
            return valued
        energy_mwh = valued.shape_energy_mwh or rfq.quantity_mw * valued.hours
        facts = (valued.hours, energy_mwh, market.curves.id, valued.curve_as_of)
        return build_quote(rfq.our_side, valued.mid_eur_mwh * 5, {"half": 0.5}, facts)


async def test_the_price_band_refuses_an_absurd_price_the_strategy_and_its_mid_agree_on(
    tmp_path: Path,
) -> None:
    band = {Commodity.POWER: PriceBand(min_eur_mwh=-100.0, max_eur_mwh=300.0)}
    risk = DEMO_RISK.model_copy(update={"price_band_eur_mwh": band})
    async with (
        fast_sandbox() as sandbox,
        running_engine(sandbox, tmp_path, strategy=FivefoldCurve(), risk=risk) as bot,
    ):
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: sum(bot.desk.stats.declined.values()) >= 1, "a decline")
        assert bot.desk.stats.quotes_sent == 0
        assert dict(bot.desk.stats.declined) == {"price-band": 1}
    (decline,) = audit_records(tmp_path, "decline")
    assert decline["reason"] == "price-band"
    assert "EUR/MWh outside the power band [-100, 300]" in decline["detail"]
    assert 300 < decline["decision"]["mid"] < 4000
    failed = [c["code"] for c in decline["checks"] if not c["passed"]]
    assert failed == ["price-band", "collar"]  # the collar holds it against the curve mid
    assert audit_records(tmp_path, "quote-intent") == []


async def test_the_collar_holds_a_quote_against_the_curve_mid_not_the_strategys(
    tmp_path: Path,
) -> None:
    """Within the price band, a strategy that calls its own absurd price the mid is refused by
    the collar, which measures from the curves' price of the delivery."""
    async with (
        fast_sandbox() as sandbox,
        running_engine(sandbox, tmp_path, strategy=FivefoldCurve()) as bot,
    ):
        await new_rfq(sandbox, **month_ahead())
        await eventually(lambda: sum(bot.desk.stats.declined.values()) >= 1, "a decline")
        assert bot.desk.stats.quotes_sent == 0
        assert dict(bot.desk.stats.declined) == {"collar": 1}
        assert (await counters(sandbox))["live-quotes"] == 0
    (decline,) = audit_records(tmp_path, "decline")
    said = decline["detail"]
    assert said.startswith("collar: ")
    curve_mid = float(said.split(" from mid ")[1].split()[0])
    assert 20 < curve_mid < 200  # the curve's, not the strategy's fivefold "mid"
    assert decline["decision"]["mid"] > 4 * curve_mid
    assert audit_records(tmp_path, "quote-intent") == []
