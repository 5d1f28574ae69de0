"""End to end, an alert reaches a person: the sandbox venue and the bot (in this process), a
real Prometheus and a real Alertmanager (processes) running the repository's rules, routes and
inhibitions, and a webhook receiver standing in for the desk's pager.

Two failure modes, each injected, delivered with its labels and annotations, and resolved:
- our clock falls 10 minutes behind the venue's: QuoterClockSkew pages (critical), and the
  reducing it causes is inhibited;
- the venue refuses every quote: the bot latches its refusal kill, QuoterKillSwitchActive
  pages; the refusals' own warning is inhibited under the kill; `resume` resolves it.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from quoter.app import open_bot, run_bot
from quoter.clock import Clock
from quoter.engine.curve_watch import CurveStore
from quoter.engine.killswitch import TradingState
from quoter.metrics.config import MetricsConfig
from quoter.pricing.config import CurvesConfig
from quoter.risk.config import DEMO_RISK
from tests.engine.harness import (
    BIG_QUOTA,
    CURVES,
    engine_config,
    eventually,
    fast_sandbox,
    month_ahead,
)
from tests.observability.alerting import (
    Alertmanager,
    fast_rules,
    running_alertmanager,
    running_webhook,
)
from tests.observability.live import free_port, running_prometheus
from tests.observability.promql import need_binary
from tests.venue.contract import client_config, control, fault, new_rfq

PLAN = {"daily_quota": BIG_QUOTA, "withdraw_reserve_daily": 250, "submit_reserve_daily": 500}
DELIVERY_S = 20.0  # the bound on each delivery (it takes about a second: see alerting.py)


class MovableClock:
    """The venue's clock, read `offset` off; moving it back also moves monotonic time past the
    engine's 60 s skew hold, as if that minute had passed."""

    def __init__(self, inner: Clock) -> None:
        self._inner = inner
        self.offset = timedelta()
        self.skipped_s = 0.0

    def now(self) -> datetime:
        return self._inner.now() + self.offset

    def monotonic(self) -> float:
        return self._inner.monotonic() + self.skipped_s

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        pytest.fail("alertmanager is not installed: `make test` installs prometheus-alertmanager")
    return found


async def _state(alertmanager: Alertmanager, alertname: str) -> dict[str, object]:
    for alert in await alertmanager.alerts():
        if alert["labels"]["alertname"] == alertname:
            status: dict[str, object] = alert["status"]
            return status
    return {}


async def _suppressed(alertmanager: Alertmanager, alertname: str, by: str) -> None:
    give_up = time.monotonic() + DELIVERY_S
    while (await _state(alertmanager, alertname)).get("state") != "suppressed":
        assert time.monotonic() < give_up, f"{alertname} never suppressed under {by}"
        await asyncio.sleep(0.05)
    assert (await _state(alertmanager, alertname))["inhibitedBy"]


async def test_a_kill_and_a_clock_skew_page_the_desk_and_resolve(tmp_path: Path) -> None:
    prometheus_binary = need_binary("prometheus")
    port = free_port()
    async with fast_sandbox() as sandbox, running_webhook() as hook:
        clock = MovableClock(sandbox.clock)
        venue = client_config(sandbox, tmp_path / "ledger.json", usage_plan=PLAN)
        curves = CurveStore(None, initial=CURVES)
        async with (
            open_bot(
                engine_config(tmp_path), venue, DEMO_RISK, sandbox.credentials, clock, curves
            ) as bot,
            running_alertmanager(alertmanager_binary(), tmp_path, hook.url) as alertmanager,
            running_prometheus(
                prometheus_binary,
                tmp_path,
                f"127.0.0.1:{port}",
                rules=fast_rules(tmp_path),
                alertmanager=alertmanager.url.removeprefix("http://"),
            ) as prometheus,
        ):
            stop = asyncio.Event()
            metrics = MetricsConfig(port=port)
            task = asyncio.create_task(
                run_bot(bot, curves, CurvesConfig(), clock, stop, metrics=metrics)
            )
            deps = bot.engine.deps
            try:
                await prometheus.until('up{job="quoter"} == 1', "a scrape of the bot")
                # 1. Our clock 10 minutes behind the venue's.
                clock.offset = -timedelta(minutes=10)
                await new_rfq(sandbox, **month_ahead())
                await eventually(lambda: "clock-skew" in deps.killswitch.conditions, "skew")
                skewed_s = time.monotonic()
                skew = await hook.until("QuoterClockSkew", "firing", skewed_s, DELIVERY_S)
                skew_delivery_s = skew.at_s - skewed_s
                await _suppressed(alertmanager, "QuoterReducing", "QuoterClockSkew")
                clock.offset, clock.skipped_s = timedelta(), 61.0
                await eventually(lambda: "clock-skew" not in deps.killswitch.conditions, "lifted")
                lifted_s = time.monotonic()
                await hook.until("QuoterClockSkew", "resolved", lifted_s, DELIVERY_S)
                skew_resolved_s = time.monotonic() - lifted_s

                # 2. The venue refuses every quote: the bot's refusal kill.
                await fault(sandbox, "invalid-quote", count=1000, method="POST")
                for _ in range(12):
                    await new_rfq(sandbox, **month_ahead())
                await eventually(lambda: deps.killswitch.state is TradingState.HALTED, "a kill")
                killed_s = time.monotonic()
                kill = await hook.until("QuoterKillSwitchActive", "firing", killed_s, DELIVERY_S)
                kill_delivery_s = kill.at_s - killed_s
                await _suppressed(alertmanager, "QuoterQuotesRefused", "QuoterKillSwitchActive")
                # The cause fixed before the resume, as the runbook says: the RFQs declined
                # under the kill are priced again, and would be refused and killed again.
                await control(sandbox, "DELETE", "/faults")
                deps.killswitch.resume()
                resumed_s = time.monotonic()
                await hook.until("QuoterKillSwitchActive", "resolved", resumed_s, DELIVERY_S)
                kill_resolved_s = time.monotonic() - resumed_s
            finally:
                stop.set()
                await asyncio.wait_for(task, 15)

    assert skew.path == "/quoter/critical"
    assert skew.labels == {
        "alertname": "QuoterClockSkew", "severity": "critical", "code": "clock-skew",
        "job": "quoter", "instance": f"127.0.0.1:{port}",
    }  # fmt: skip
    assert skew.annotations["runbook"] == "docs/runbook.md#quoterclockskew"
    assert skew.annotations["summary"] == "our clock disagrees with the venue's; no new quotes"
    assert kill.path == "/quoter/critical"
    assert kill.labels == {
        "alertname": "QuoterKillSwitchActive", "severity": "critical",
        "job": "quoter", "instance": f"127.0.0.1:{port}",
    }  # fmt: skip
    assert kill.annotations["runbook"] == "docs/runbook.md#quoterkillswitchactive"
    assert kill.annotations["summary"] == "quoter kill switch is latched"
    delivered = {(d.labels["alertname"], d.status) for d in hook.deliveries}
    assert ("QuoterReducing", "firing") not in delivered  # inhibited under the skew
    print(
        f"kill -> webhook {kill_delivery_s:.2f} s, resumed -> resolved {kill_resolved_s:.2f} s; "
        f"skew -> webhook {skew_delivery_s:.2f} s, lifted -> resolved {skew_resolved_s:.2f} s"
    )
