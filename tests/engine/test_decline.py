"""One decline type: the engine's own refusals, the risk checks' and the strategies' are all a
`Decline` with a `DeclineCode`, whose strings are the audit's and the metrics' labels."""

from __future__ import annotations

from datetime import timedelta

from quoter.engine.config import QuotingConfig
from quoter.engine.decide import precheck, risk_declined
from quoter.pricing.reasons import ENGINE_CODES, PRICING_CODES, RISK_CODES, Decline, DeclineCode
from quoter.risk.checks import CheckResult, RiskVerdict
from quoter.strategies_api import Decline as StrategyDecline
from quoter.strategies_api import ReasonCode
from tests.factories import make_rfq


def test_the_engine_and_the_risk_checks_decline_with_the_one_type() -> None:
    rfq = make_rfq()
    late = precheck(rfq, rfq.quote_deadline - timedelta(seconds=1), QuotingConfig())
    assert late == Decline(DeclineCode.TOO_LATE, "1.0 s left before the deadline")
    verdict = RiskVerdict(
        (
            CheckResult(DeclineCode.COLLAR, True, "ok"),
            CheckResult(DeclineCode.MAX_VOLUME, False, "80 MW > 50"),
            CheckResult(DeclineCode.DRIFT, False, "moved"),
        )
    )
    limit = risk_declined(verdict)
    assert limit == Decline(DeclineCode.MAX_VOLUME, "max-volume: 80 MW > 50; drift: moved")
    assert type(limit) is StrategyDecline
    assert ReasonCode is DeclineCode


def test_every_code_belongs_to_one_who_declines_and_keeps_its_string() -> None:
    assert set(DeclineCode) == PRICING_CODES | ENGINE_CODES | RISK_CODES
    assert not (PRICING_CODES & ENGINE_CODES)
    assert not (PRICING_CODES & RISK_CODES)
    assert not ENGINE_CODES & RISK_CODES
    assert str(DeclineCode.KILLED) == "killed"
    assert f"{DeclineCode.CREDIT_LIMIT}" == "credit-limit"
