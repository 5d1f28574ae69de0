"""The pre-trade checks: pure functions of the limits, the book and one proposed quote.

Each check returns a `CheckResult` with a reason code; the verdict passes only if all pass.
Quotes in flight are in the book the moment they are reserved, so they count at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from quoter.domain import Action, Rfq
from quoter.pricing.delivery import DeliveryBucket
from quoter.pricing.reasons import RISK_CODES, DeclineCode
from quoter.risk.config import RiskConfig

QUOTE_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Proposal:
    """A quote the engine wants to send, reduced to what the limits look at."""

    rfq: Rfq
    prices: tuple[float, ...]
    mid: float
    energy_mwh: float
    buckets_mwh: Mapping[DeliveryBucket, float]
    # Read by several checks and by the book for every decision: worked out once, here.
    # `sides`: the sides we may end up on, one for a one-way quote, both for a two-way one.
    sides: tuple[Action, ...] = field(init=False, repr=False, compare=False)
    notional_eur: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        side = self.rfq.our_side
        object.__setattr__(self, "sides", (Action.BUY, Action.SELL) if side is None else (side,))
        object.__setattr__(self, "notional_eur", max(map(abs, self.prices)) * self.energy_mwh)

    @property
    def product_key(self) -> Hashable:
        """What makes two RFQs the same product, for the drift check."""
        i = self.rfq.instrument
        return (i.commodity, i.market_area, i.load, i.start, i.end)


@dataclass(frozen=True, slots=True)
class CheckResult:
    code: DeclineCode
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        # A list comprehension, one call: a generator is resumed once per check.
        return tuple([r for r in self.results if not r.passed])


@dataclass(frozen=True, slots=True)
class BookView:
    """What the checks read of the desk's book at one instant (monotonic seconds)."""

    now_s: float
    curve_age_s: float
    open_quotes: int
    already_open: bool  # the proposal's RFQ has a quote open: a requote replaces it
    quotes_last_minute: int
    fills_in_window: int
    positions_mwh: Mapping[DeliveryBucket, float]
    pending_long_mwh: Mapping[DeliveryBucket, float]
    pending_short_mwh: Mapping[DeliveryBucket, float]
    credit_used_eur: Mapping[str, float]
    mid_range: tuple[float, float] | None  # lowest and highest mid in the drift window


Check = Callable[[RiskConfig, BookView, Proposal], CheckResult]


def _failed(code: DeclineCode, detail: str) -> CheckResult:
    return CheckResult(code, False, detail)


# A pass says only "ok": one shared result per code, and no detail formatted for nothing (the
# checks run for every quote, so a pass is a look-up, not a call).
PASSED: dict[DeclineCode, CheckResult] = {
    code: CheckResult(code, True, "ok") for code in RISK_CODES
}


def check_scope(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    i = p.rfq.instrument
    if i.market_area not in config.allowed_areas:
        return _failed(DeclineCode.AREA_NOT_ALLOWED, f"area {i.market_area} is not allowed")
    if i.load not in config.allowed_loads:
        return _failed(DeclineCode.LOAD_NOT_ALLOWED, f"load {i.load} is not allowed")
    if i.product_type not in config.allowed_products:
        return _failed(DeclineCode.PRODUCT_NOT_ALLOWED, f"product {i.product_type} is not allowed")
    return PASSED[DeclineCode.PRODUCT_NOT_ALLOWED]


def check_price_band(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    """The fat-finger limit: absolute, so a curve in the wrong unit cannot move it."""
    commodity = p.rfq.instrument.commodity
    band = config.price_band_eur_mwh[commodity]
    for price in p.prices:
        if not band.min_eur_mwh <= price <= band.max_eur_mwh:
            detail = (
                f"{price:.3f} EUR/MWh outside the {commodity} band "
                f"[{band.min_eur_mwh:g}, {band.max_eur_mwh:g}]"
            )
            return _failed(DeclineCode.PRICE_BAND, detail)
    return PASSED[DeclineCode.PRICE_BAND]


def check_curve_age(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    if book.curve_age_s <= config.max_curve_age_s:
        return PASSED[DeclineCode.CURVE_STALE]
    return _failed(DeclineCode.CURVE_STALE, f"curve is {book.curve_age_s:.0f} s old")


def check_collar(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    limit = config.collar_for(p.rfq.instrument.product_type).max_distance_eur_mwh
    worst = max(abs(price - p.mid) for price in p.prices)
    if worst <= limit:
        return PASSED[DeclineCode.COLLAR]
    return _failed(DeclineCode.COLLAR, f"{worst:.3f} from mid {p.mid:.3f} > {limit}")


def check_drift(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    limit = config.collar_for(p.rfq.instrument.product_type).max_drift_eur_mwh
    low, high = book.mid_range or (p.mid, p.mid)
    drift = max(high, p.mid) - min(low, p.mid)
    if drift <= limit:
        return PASSED[DeclineCode.DRIFT]
    return _failed(DeclineCode.DRIFT, f"mid moved {drift:.3f} in the window > {limit}")


def check_volume(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    mw = p.rfq.quantity_mw
    if mw <= config.max_volume_mw:
        return PASSED[DeclineCode.MAX_VOLUME]
    return _failed(DeclineCode.MAX_VOLUME, f"{mw} MW > {config.max_volume_mw}")


def check_notional(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    notional = p.notional_eur
    if notional <= config.max_notional_eur:
        return PASSED[DeclineCode.MAX_NOTIONAL]
    return _failed(DeclineCode.MAX_NOTIONAL, f"{notional:.0f} EUR > {config.max_notional_eur}")


def check_open_quotes(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    # A requote replaces the live quote on the same RFQ, so it adds nothing.
    after = book.open_quotes + (0 if book.already_open else 1)
    if after <= config.max_open_quotes:
        return PASSED[DeclineCode.MAX_OPEN_QUOTES]
    return _failed(DeclineCode.MAX_OPEN_QUOTES, f"{after} open quotes > {config.max_open_quotes}")


def check_quote_rate(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    recent = book.quotes_last_minute
    if recent < config.max_quotes_per_minute:
        return PASSED[DeclineCode.MAX_QUOTES_PER_MINUTE]
    return _failed(DeclineCode.MAX_QUOTES_PER_MINUTE, f"{recent} quotes in the last minute")


def check_positions(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    """|position| per bucket after a fill within the limit; a bucket already beyond it (a limit
    lowered, a position adopted) is reduce-only, as desks and venues' pre-trade limits have it:
    a quote that takes it toward zero, without crossing to the other side beyond the limit,
    passes; one that grows it fails. The detail says when reduce-only decided."""
    limit = config.max_position_mwh
    reducing: list[str] = []
    for bucket, mwh in p.buckets_mwh.items():
        held = book.positions_mwh.get(bucket, 0.0)
        long = held + book.pending_long_mwh.get(bucket, 0.0)
        short = held - book.pending_short_mwh.get(bucket, 0.0)
        for side in p.sides:
            # The worst case on this side: every pending quote on it filled as well.
            before = long if side is Action.BUY else short
            after = before + mwh if side is Action.BUY else before - mwh
            if abs(after) <= limit:
                continue
            if abs(before) <= limit:
                detail = f"{bucket_name(bucket)}: {after:.1f} MWh > {limit}"
                return _failed(DeclineCode.POSITION_LIMIT, detail)
            if not _reduces(before, after):
                return _failed(
                    DeclineCode.POSITION_LIMIT, _reduce_only(bucket, before, after, limit)
                )
            reducing.append(_reduce_only(bucket, before, after, limit))
    if reducing:
        return CheckResult(DeclineCode.POSITION_LIMIT, True, "; ".join(reducing))
    return PASSED[DeclineCode.POSITION_LIMIT]


def _reduces(before: float, after: float) -> bool:
    """`after` nearer zero than `before`, on the same side of it."""
    return abs(after) < abs(before) and (after >= 0) == (before >= 0)


def _reduce_only(bucket: DeliveryBucket, before: float, after: float, limit: float) -> str:
    verb = "reduces it" if _reduces(before, after) else "would grow it"
    return (
        f"reduce-only: {bucket_name(bucket)} is {before:.1f} MWh, beyond {limit}; "
        f"this quote {verb} to {after:.1f}"
    )


def check_credit(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    who = p.rfq.requester_id
    limit = config.credit_limit_by_counterparty_eur.get(who, config.credit_limit_eur)
    after = book.credit_used_eur.get(who, 0.0) + p.notional_eur
    if after <= limit:
        return PASSED[DeclineCode.CREDIT_LIMIT]
    return _failed(DeclineCode.CREDIT_LIMIT, f"{who}: {after:.0f} EUR > {limit}")


def check_fill_rate(config: RiskConfig, book: BookView, p: Proposal) -> CheckResult:
    fills = book.fills_in_window
    if fills < config.fill_throttle_count:
        return PASSED[DeclineCode.FILL_THROTTLE]
    return _failed(
        DeclineCode.FILL_THROTTLE, f"{fills} fills in {config.fill_throttle_window_s:.0f} s"
    )


CHECKS: tuple[Check, ...] = (
    check_scope,
    check_price_band,
    check_curve_age,
    check_collar,
    check_drift,
    check_volume,
    check_notional,
    check_open_quotes,
    check_quote_rate,
    check_positions,
    check_credit,
    check_fill_rate,
)

# What a quote already live must pass to be kept (adopted at a start): the limits on what it
# may become, not those on how it was priced or how fast quotes go out.
EXPOSURE_CHECKS: tuple[Check, ...] = (
    check_scope,
    check_price_band,
    check_volume,
    check_notional,
    check_open_quotes,
    check_positions,
    check_credit,
)

REASON_CODES: frozenset[DeclineCode] = RISK_CODES


# The verdict of a quote every check passes, each with its shared result: nearly every quote's.
# `check` returns this one object for it, so what is made of it (the audit record's check parts)
# can be made once. In the order of CHECKS, each check's code on a pass.
ALL_PASSED = RiskVerdict(
    tuple(
        PASSED[code]
        for code in (
            DeclineCode.PRODUCT_NOT_ALLOWED,
            DeclineCode.PRICE_BAND,
            DeclineCode.CURVE_STALE,
            DeclineCode.COLLAR,
            DeclineCode.DRIFT,
            DeclineCode.MAX_VOLUME,
            DeclineCode.MAX_NOTIONAL,
            DeclineCode.MAX_OPEN_QUOTES,
            DeclineCode.MAX_QUOTES_PER_MINUTE,
            DeclineCode.POSITION_LIMIT,
            DeclineCode.CREDIT_LIMIT,
            DeclineCode.FILL_THROTTLE,
        )
    )
)


def check(config: RiskConfig, book: BookView, proposal: Proposal) -> RiskVerdict:
    """Run every check; all results are kept so the audit trail shows each one. A pass of
    every check is `ALL_PASSED` (the same results, compared by identity first)."""
    results = tuple([c(config, book, proposal) for c in CHECKS])
    return ALL_PASSED if results == ALL_PASSED.results else RiskVerdict(results)


def check_exposure(config: RiskConfig, book: BookView, proposal: Proposal) -> RiskVerdict:
    """The `EXPOSURE_CHECKS` of a quote already live."""
    return RiskVerdict(tuple([c(config, book, proposal) for c in EXPOSURE_CHECKS]))


def bucket_name(bucket: DeliveryBucket) -> str:
    """A delivery bucket as people read it: `power/DE 2026-04`."""
    return f"{bucket.commodity}/{bucket.market_area} {bucket.month}"
