"""`quoter price RFQ.json`: price one RFQ offline with a strategy and print the decision as JSON.

A quote is put through the desk's pre-trade risk checks as the running bot does (the limits of
`--config`'s [risk], else the demo's), against an empty book: no positions, no live quotes, no
credit used. A quote the checks refuse is printed as the decline the bot would make, with the
strategy's figures and every check's result, so an offline price never looks sendable when the
bot would not send it.

A decline is a normal result (exit 0); input that cannot be read (a missing file, bad JSON, a bad
RFQ or load-shape field, an unknown strategy or parameter) exits 2 with a message naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quoter.basics.errors import ConfigError
from quoter.config import load_config, require_risk
from quoter.domain import Load, LoadShape, Rfq
from quoter.engine.decide import proposal_of, risk_declined
from quoter.engine.desk import empty_book
from quoter.pricing.config import CurvesConfig
from quoter.pricing.curve import CurveSet
from quoter.pricing.curve_checks import load_vetted
from quoter.pricing.delivery import Delivery, delivery_of
from quoter.pricing.synthetic import synthetic_curve_set
from quoter.pricing.valuation import price_delivery
from quoter.risk import checks
from quoter.risk.config import DEMO_RISK, RiskConfig
from quoter.strategies_api import (
    Decision,
    Decline,
    MarketSnapshot,
    QuoteDecision,
    StrategyLoadError,
    evaluate,
    load_strategy,
    parameters_in_effect,
    strategy_version,
)
from quoter.strategy_paths import use_strategy_folders
from quoter.venue.errors import MalformedResponse
from quoter.venue.parse import parse_load_shape, parse_rfq

SHAPE_KEY = "load-shape"


DEFAULT_STRATEGY_NAME = "curve_spread"  # without --strategy or a desk's configuration


class InputError(Exception):
    """Input the command cannot use; the message names the file and the field."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("price", help="price one RFQ offline and print the decision")
    parser.add_argument(
        "rfq",
        type=Path,
        help="RFQ JSON as the venue sends it (load shape inline "
        f"under {SHAPE_KEY!r} or with --shape)",
    )
    parser.add_argument("--curves", type=Path, help="curve file or folder; default: synthetic")
    parser.add_argument(
        "--strategy",
        help="built-in, entry point or package.module:attribute (default: with --config the "
        "desk's [engine.strategy], its parameters updated by --param; else curve_spread)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy parameter; VALUE is JSON or text; KEY may be dotted",
    )
    parser.add_argument("--shape", type=Path, help="load-shape JSON in the contract's format")
    parser.add_argument(
        "--config",
        type=Path,
        help="a desk's configuration: its strategy (without --strategy) and its [strategies] "
        "paths, searched after the working directory (its curves are not read: --curves)",
    )
    parser.add_argument(
        "--now",
        type=_instant,
        help="decision instant, ISO with offset (default: the RFQ's created-at)",
    )
    parser.set_defaults(handler=run_price)


def run_price(args: argparse.Namespace) -> int:
    try:
        rfq, shape = parse_rfq_document(_read_json(args.rfq), str(args.rfq))
        if args.shape is not None:
            shape = _parse_shape(_read_json(args.shape), str(args.shape))
        if shape is not None and rfq.instrument.load is not Load.CUSTOM:
            raise InputError(
                f"{args.rfq}: a load shape goes with a custom load, not {rfq.instrument.load}"
            )
        params = parse_params(args.param)
        config = load_config(args.config)
        risk = DEMO_RISK if args.config is None else require_risk(config, str(args.config))
        use_strategy_folders(config.strategies)
        name: str = args.strategy or DEFAULT_STRATEGY_NAME
        if args.strategy is None and args.config is not None:  # what the desk quotes with
            name = config.engine.strategy.name
            params = updated(config.engine.strategy.params, params)
        strategy = load_strategy(name, params)
        now: datetime = args.now or rfq.created_at
        curves, refused = _curves(args.curves, now, config.curves)
    except (InputError, StrategyLoadError, ConfigError) as error:
        print(f"quoter price: {error}", file=sys.stderr)
        return 2
    market = MarketSnapshot(curves=curves, now=now, shape=shape)
    decision = evaluate(strategy, rfq, market)
    verdict = None if isinstance(decision, Decline) else risk_verdict(rfq, decision, market, risk)
    report = describe(rfq, decision, market, name, verdict)
    report["params"] = parameters_in_effect(strategy, params)  # its defaults filled in
    report["version"] = strategy_version(strategy)  # as the trail would record it
    if refused:  # why an RFQ declined no-curve had none: the curve was there, and refused
        report["curves-refused"] = refused
    if verdict is not None:
        report["risk"] = {
            "limits": "demo (no --config)" if args.config is None else f"{args.config} [risk]",
            "book": "empty: no positions, no live quotes, no credit used",
            "checks": f"not run: {verdict.detail}"
            if isinstance(verdict, Decline)
            else {
                r.code.value: "ok" if r.passed else f"refused: {r.detail}" for r in verdict.results
            },
        }
    print(json.dumps(report, indent=2))
    return 0


def risk_verdict(
    rfq: Rfq, decision: QuoteDecision, market: MarketSnapshot, risk: RiskConfig
) -> checks.RiskVerdict | Decline:
    """The pre-trade checks on `decision` as the engine's pipeline runs them, against an empty
    book with `risk`'s limits; a Decline where the pipeline declines before them (no curve mid
    to hold the quote against)."""
    delivery = delivery_of(rfq, market.shape)
    assert isinstance(delivery, Delivery), "a priced RFQ has a delivery"
    proposal = proposal_of(rfq, decision, delivery, market.curves)
    if isinstance(proposal, Decline):
        return proposal
    series = market.curves.get((rfq.instrument.commodity, rfq.instrument.market_area))
    age_s = (market.now - series.as_of).total_seconds() if series else float("inf")
    book = empty_book(risk)
    return checks.check(risk, book.view(proposal, now_s=0.0, curve_age_s=age_s), proposal)


def parse_rfq_document(data: object, source: str = "<rfq>") -> tuple[Rfq, LoadShape | None]:
    """The RFQ in a venue RFQ document, and its load shape if given inline under "load-shape"."""
    try:
        rfq = parse_rfq(data)
    except MalformedResponse as error:
        raise InputError(f"{source}: {error}") from None
    inline = data.get(SHAPE_KEY) if isinstance(data, dict) else None
    return rfq, None if inline is None else _parse_shape(inline, f"{source}: {SHAPE_KEY}")


def updated(base: Mapping[str, object], given: Mapping[str, object]) -> dict[str, object]:
    """`base` with the `given` parameters over it; a nested table is updated key by key, as a
    dotted --param names one key in it."""
    merged = dict(base)
    for key, value in given.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = updated(old, value)
        else:
            merged[key] = value
    return merged


def parse_params(pairs: list[str]) -> dict[str, object]:
    """`KEY=VALUE` pairs as a (nested, for dotted keys) mapping; VALUE is JSON, else text."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            value: object = json.loads(text)
        except ValueError:
            value = text
        *parents, leaf = key.split(".")
        node = params
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"--param {pair!r}: {part} already has a value")
            node = child
        node[leaf] = value
    return params


def describe(
    rfq: Rfq,
    decision: Decision,
    market: MarketSnapshot,
    strategy: str,
    verdict: checks.RiskVerdict | Decline | None = None,
) -> dict[str, object]:
    """The decision as the JSON object the command prints: a quote `verdict` refuses (or is
    a decline before the checks) is the decline the bot would make, the strategy's figures
    kept."""
    report: dict[str, object] = {
        "rfq-id": rfq.id,
        "decision": "quote",
        "reason": None,
        "detail": None,
    }
    refused = verdict if verdict is None or isinstance(verdict, Decline) else risk_declined(verdict)
    if refused is not None:
        report.update(decision="decline", reason=refused.reason.value, detail=refused.detail)
    if isinstance(decision, Decline):
        report.update(decision="decline", reason=decision.reason.value, detail=decision.detail)
        report.update(_delivery_facts(rfq, market))
        report.update(side=None, price=None, bid=None, ask=None, components={})
    else:
        report.update(
            {
                "side": None if decision.side is None else decision.side.value,
                "mid": _eur(decision.mid),
                "delivery-hours": decision.delivery_hours,
                "energy-mwh": decision.energy_mwh,
                "price": decision.price,
                "bid": decision.bid,
                "ask": decision.ask,
                "components": {name: _eur(value) for name, value in decision.components.items()},
            }
        )
        if decision.notes:
            report["notes"] = dict(decision.notes)
    series = market.curves.series.get((rfq.instrument.commodity, rfq.instrument.market_area))
    as_of = series.as_of if series is not None else market.curves.oldest_as_of()
    report.update(
        {
            "strategy": strategy,
            "curve-id": market.curves.id,
            "curve-as-of": None if as_of is None else _iso(as_of),
            "now": _iso(market.now),
        }
    )
    return report


def _delivery_facts(rfq: Rfq, market: MarketSnapshot) -> Mapping[str, object]:
    """What can still be said about a declined RFQ's delivery."""
    delivery = delivery_of(rfq, market.shape)
    if not isinstance(delivery, Delivery):
        return {"mid": None, "delivery-hours": None, "energy-mwh": None}
    mid = price_delivery(delivery, market.curves)
    return {
        "mid": None if isinstance(mid, Decline) else _eur(mid),
        "delivery-hours": delivery.hours,
        "energy-mwh": delivery.energy_mwh,
    }


def _curves(path: Path | None, now: datetime, config: CurvesConfig) -> tuple[CurveSet, list[str]]:
    """The curves to price from, and the series refused in them (with `config`'s bands, as the
    bot with that configuration would refuse them)."""
    if path is None:
        return synthetic_curve_set(as_of=now), []
    if not path.exists():
        raise InputError(f"{path}: no such curve file or folder")
    load = load_vetted(path, now, config)  # refused as the bot would refuse it, then not used
    refused = [str(problem) for problem in load.problems]
    for problem in refused:
        print(f"quoter price: curve refused: {problem}", file=sys.stderr)
    return load.curve_set, refused


def _parse_shape(data: object, source: str) -> LoadShape:
    try:
        return parse_load_shape(data)
    except MalformedResponse as error:
        raise InputError(f"{source}: {error}") from None


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset or Z")
    return moment.astimezone(UTC)


def _eur(value: float) -> float:
    """EUR/MWh for people: prices are 3 decimals, a mid or a component 6 are plenty."""
    return round(value, 6)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
