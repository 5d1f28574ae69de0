"""Fuzz-style: every kind of wrong answer a strategy can give (a wrong type or value, a raise of
any kind) is a coded decline, never an exception out of `evaluate`; every wrong parameter is
refused at load and by a swap, naming the parameter."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import numpy as np
import pytest
from annotated_types import Le
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

from quoter.domain import Action, QuoteType, Rfq
from quoter.engine.strategy_thread import StrategyEscaped, StrategyThreads
from quoter.strategies_api import (
    Decline,
    MarketSnapshot,
    QuoteDecision,
    ReasonCode,
    StrategyLoadError,
    evaluate,
    load_strategy,
)
from tests.admin.harness import admin_bot, call
from tests.strategies.factories import AS_OF, period_rfq, snapshot
from tests.strategies.test_evaluate import MAY, Fixed, quote

FAULTS = {ReasonCode.STRATEGY_ERROR, ReasonCode.STRATEGY_NAN, ReasonCode.STRATEGY_INVALID}
ONE_WAY = period_rfq(*MAY)
TWO_WAY = period_rfq(*MAY, quote_type=QuoteType.TWO_WAY)


class Sneaky(QuoteDecision):
    """A subclass whose prices() a plugin wrote."""

    def prices(self) -> tuple[float, ...]:
        raise RuntimeError("gotcha")


class Unprintable(Exception):
    def __str__(self) -> str:
        raise SystemExit("from __str__")


class Custom(BaseException):
    """A BaseException of the plugin's own."""


class BadFloat(float):
    def __float__(self) -> float:
        raise ValueError("no")


def _two_way(**fields: Any) -> QuoteDecision:
    return quote(**{"side": None, "price": None, "bid": 49.5, "ask": 50.5, **fields})


# (what the strategy returns, the RFQ, the reason expected). Each row is one wrong answer.
RETURNS: list[tuple[str, object, Rfq, ReasonCode]] = [
    ("None", None, ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a bare float", 50.5, ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a str", "50.5", ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a Decimal", Decimal("50.5"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a dict", {"price": 50.5}, ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a plain tuple of the fields", tuple(quote()), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a QuoteDecision subclass", Sneaky(*quote()), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("a class, not an instance", QuoteDecision, ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price Decimal", quote(price=Decimal("50.5")), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price str", quote(price="50.5"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price int", quote(price=50), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price bool", quote(price=True), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price Fraction", quote(price=Fraction(101, 2)), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price complex", quote(price=50.5 + 0j), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price numpy.float32", quote(price=np.float32(50.5)), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price numpy.int64", quote(price=np.int64(50)), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price numpy array", quote(price=np.array([50.5])), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    (
        "price a float whose __float__ raises",
        quote(price=BadFloat(50.5)),
        ONE_WAY,
        ReasonCode.STRATEGY_INVALID,
    ),
    ("price missing on one-way", quote(price=None), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("price NaN", quote(price=float("nan")), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("price inf", quote(price=float("inf")), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("price -inf", quote(price=float("-inf")), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("price numpy NaN", quote(price=np.float64("nan")), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("price absurd", quote(price=1e9), ONE_WAY, ReasonCode.PRICE_OUT_OF_RANGE),
    ("mid Decimal", quote(mid=Decimal(50)), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("mid str", quote(mid="50"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("mid None", quote(mid=None), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("mid NaN", quote(mid=float("nan")), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("bid Decimal", _two_way(bid=Decimal("49.5")), TWO_WAY, ReasonCode.STRATEGY_INVALID),
    ("ask str", _two_way(ask="50.5"), TWO_WAY, ReasonCode.STRATEGY_INVALID),
    ("ask inf", _two_way(ask=float("inf")), TWO_WAY, ReasonCode.STRATEGY_NAN),
    ("bid above ask", _two_way(bid=51.0), TWO_WAY, ReasonCode.STRATEGY_INVALID),
    ("side a str", quote(side="sell"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("side the wrong one", quote(side=Action.BUY), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("components a list", quote(components=[("mid", 50.0)]), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("components None", quote(components=None), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    (
        "component Decimal",
        quote(components={"mid": Decimal(50)}),
        ONE_WAY,
        ReasonCode.STRATEGY_INVALID,
    ),
    ("component str", quote(components={"mid": "50"}), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("component key int", quote(components={1: 50.0}), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("component NaN", quote(components={"mid": float("nan")}), ONE_WAY, ReasonCode.STRATEGY_NAN),
    ("delivery_hours str", quote(delivery_hours="744"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("delivery_hours int", quote(delivery_hours=744), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("energy_mwh Decimal", quote(energy_mwh=Decimal(7440)), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("curve_id int", quote(curve_id=7), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("curve_as_of str", quote(curve_as_of="2026-01-02"), ONE_WAY, ReasonCode.STRATEGY_INVALID),
    ("Decline unknown reason", Decline("made-up", "x"), ONE_WAY, ReasonCode.STRATEGY_INVALID),  # type: ignore[arg-type]
    ("Decline reason int", Decline(3, "x"), ONE_WAY, ReasonCode.STRATEGY_INVALID),  # type: ignore[arg-type]
    ("Decline reason list", Decline([1], "x"), ONE_WAY, ReasonCode.STRATEGY_INVALID),  # type: ignore[arg-type]
    (
        "Decline detail not a str",
        Decline(ReasonCode.NO_CURVE, 3),  # type: ignore[arg-type]
        ONE_WAY,
        ReasonCode.STRATEGY_INVALID,
    ),
]

# (what the strategy raises, the reason expected); KeyboardInterrupt is its own test.
RAISES: list[tuple[str, BaseException]] = [
    ("ValueError", ValueError("bad")),
    ("ZeroDivisionError", ZeroDivisionError("division by zero")),
    ("RecursionError", RecursionError("deep")),
    ("MemoryError", MemoryError()),
    ("an exception whose message raises", Unprintable()),
    ("SystemExit", SystemExit(3)),
    ("GeneratorExit", GeneratorExit()),
    ("asyncio.CancelledError", asyncio.CancelledError()),
    ("a BaseException of its own", Custom("mine")),
]


@dataclass(frozen=True)
class Raising:
    error: BaseException

    def price(self, rfq: Rfq, market: MarketSnapshot) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("result", "rfq", "reason"),
    [row[1:] for row in RETURNS],
    ids=[row[0] for row in RETURNS],
)
def test_every_wrong_return_is_a_coded_decline(
    result: object, rfq: Rfq, reason: ReasonCode
) -> None:
    decision = evaluate(Fixed(result), rfq, snapshot())
    assert type(decision) is Decline, decision
    assert decision.reason is reason
    assert type(decision.detail) is str
    assert len(decision.detail) <= 300


@pytest.mark.parametrize(("error"), [row[1] for row in RAISES], ids=[row[0] for row in RAISES])
def test_every_raise_is_a_strategy_error_decline(error: BaseException) -> None:
    decision = evaluate(Raising(error), ONE_WAY, snapshot())
    assert type(decision) is Decline
    assert decision.reason is ReasonCode.STRATEGY_ERROR
    assert decision.detail.startswith(type(error).__name__)


def test_keyboard_interrupt_inline_stops_the_process_and_in_a_thread_is_a_decline() -> None:
    # Inline (a replay, quoter price) it is the desk's Ctrl-C: it must still stop the run.
    with pytest.raises(KeyboardInterrupt):
        evaluate(Raising(KeyboardInterrupt()), ONE_WAY, snapshot())

    # The live engine's thread: no signal reaches it, so it is the plugin's own raise.
    async def in_thread() -> None:
        strategy = Raising(KeyboardInterrupt())
        work = lambda: evaluate(strategy, ONE_WAY, snapshot())  # noqa: E731
        with pytest.raises(StrategyEscaped, match="KeyboardInterrupt"):
            await StrategyThreads().call(strategy, work, 5.0)

    asyncio.run(in_thread())


def test_a_numpy_float64_is_a_float_and_is_quoted_as_a_plain_one() -> None:
    decision = evaluate(
        Fixed(quote(price=np.float64(50.5), mid=np.float64(50.0))), ONE_WAY, snapshot()
    )
    assert type(decision) is QuoteDecision
    assert type(decision.price) is float
    assert type(decision.mid) is float
    assert decision.price == 50.5


def _fields(name: str, value: object) -> dict[str, Any]:
    return {name: value}


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=5),
    st.complex_numbers(),
    st.fractions(),
    st.lists(st.floats(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.floats(), max_size=2),
    st.sampled_from(
        [Action.BUY, Action.SELL, AS_OF, datetime(2026, 1, 1), np.float32(1.5), np.nan]
    ),
)
FIELDS = QuoteDecision._fields


@given(st.sampled_from(FIELDS), ODD_VALUES, st.booleans())
def test_any_value_in_any_field_is_a_valid_quote_or_a_decline(
    name: str, value: object, two_way: bool
) -> None:
    base = _two_way() if two_way else quote()
    decision = evaluate(
        Fixed(base._replace(**_fields(name, value))), TWO_WAY if two_way else ONE_WAY, snapshot()
    )
    if type(decision) is Decline:
        assert decision.reason in FAULTS | {ReasonCode.PRICE_OUT_OF_RANGE}
        return
    assert type(decision) is QuoteDecision
    assert all(type(p) is float for p in decision.prices())
    assert type(decision.mid) is float
    assert all(type(v) is float for v in decision.components.values())


# Parameters: a custom strategy declaring its bounds the three ways pydantic reads them.
@dataclass(frozen=True)
class Bounded:
    half_spread_eur_mwh: Annotated[float, Field(ge=0, le=50)] = 0.5
    skew_eur_mwh: Annotated[float, Le(5)] = 0.0
    width_eur_mwh: float = field(default=1.0, metadata={"ge": 0})
    size_mw: Annotated[int, Field(gt=0)] = 10
    enabled: bool = True
    levels_eur_mwh: tuple[float, ...] = (1.0,)
    by_company_eur_mwh: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def price(self, rfq: Rfq, market: MarketSnapshot) -> object:
        raise NotImplementedError


@dataclass(frozen=True)
class InfiniteDefault:
    cap_eur_mwh: float = float("inf")

    def price(self, rfq: Rfq, market: MarketSnapshot) -> object:
        raise NotImplementedError


BOUNDED = f"{__name__}:Bounded"
# (parameter, value given): each refused, the message naming the parameter.
BAD_PARAMS: list[tuple[str, object]] = [
    ("half_spread_eur_mwh", float("nan")),
    ("half_spread_eur_mwh", float("inf")),
    ("half_spread_eur_mwh", float("-inf")),
    ("half_spread_eur_mwh", -3),
    ("half_spread_eur_mwh", 50.5),
    ("half_spread_eur_mwh", "0.5"),
    ("half_spread_eur_mwh", True),
    ("half_spread_eur_mwh", None),
    ("half_spread_eur_mwh", [0.5]),
    ("half_spread_eur_mwh", {"x": 1}),
    ("skew_eur_mwh", 6),
    ("width_eur_mwh", -0.1),
    ("size_mw", 0),
    ("size_mw", 1.5),
    ("size_mw", "3"),
    ("size_mw", False),
    ("enabled", "yes"),
    ("enabled", 1),
    ("levels_eur_mwh", [1.0, float("nan")]),
    ("levels_eur_mwh", ["1.0"]),
    ("levels_eur_mwh", 1.0),
    ("by_company_eur_mwh", {"acme": float("inf")}),
    ("by_company_eur_mwh", {"acme": "0.1"}),
    ("no_such_parameter", 1),
]
GOOD_PARAMS: list[dict[str, object]] = [
    {},
    {"half_spread_eur_mwh": 0},
    {"half_spread_eur_mwh": 50, "skew_eur_mwh": -5.0, "width_eur_mwh": 0.0},
    {"size_mw": 1, "enabled": False},
    {"levels_eur_mwh": [0.5, 1], "by_company_eur_mwh": {"acme": 0.1}},
]


@pytest.mark.parametrize(("name", "value"), BAD_PARAMS, ids=[f"{n}={v!r}" for n, v in BAD_PARAMS])
def test_a_bad_parameter_is_refused_at_load_naming_it(name: str, value: object) -> None:
    with pytest.raises(StrategyLoadError, match=name):
        load_strategy(BOUNDED, {name: value})


@pytest.mark.parametrize("params", GOOD_PARAMS)
def test_good_parameters_load(params: dict[str, object]) -> None:
    strategy = load_strategy(BOUNDED, params)
    assert isinstance(strategy, Bounded)
    for key, value in params.items():
        assert getattr(strategy, key) == (tuple(value) if isinstance(value, list) else value)


def test_a_non_finite_default_is_refused() -> None:
    with pytest.raises(StrategyLoadError, match="cap_eur_mwh: must be a finite number"):
        load_strategy(f"{__name__}:InfiniteDefault", {})


def test_built_ins_refuse_text_and_non_finite_numbers_too() -> None:
    for value in ("0.25", float("nan"), float("inf"), -1):
        with pytest.raises(StrategyLoadError, match="credit_default_eur_mwh"):
            load_strategy("curve_spread", {"credit_default_eur_mwh": value})


async def test_a_bad_parameter_is_refused_by_a_swap_and_the_old_strategy_keeps_quoting(
    tmp_path: Path,
) -> None:
    async with admin_bot(tmp_path) as (_sandbox, bot, url):
        before = bot.desk.strategy
        for name, value in BAD_PARAMS:
            status, body = await call(
                url, "POST", "/swap", {"name": BOUNDED, "params": {name: value}}
            )
            assert status == 400, (name, value, body)
            assert name in str(body)
            assert bot.desk.strategy is before
        assert bot.desk.stats.strategy_swaps["refused"] == len(BAD_PARAMS)
        status, _ = await call(url, "POST", "/swap", {"name": BOUNDED, "params": GOOD_PARAMS[2]})
        assert status == 200
        assert getattr(bot.desk.strategy.strategy, "half_spread_eur_mwh") == 50  # noqa: B009
