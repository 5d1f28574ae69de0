"""The alert inbox (`quoter alert-inbox`) over a real socket: what a person sees of the alerts
Alertmanager delivers, and what it does with a body that is not Alertmanager's."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
import pytest

from quoter.cli import main
from quoter.metrics import alert_inbox
from quoter.metrics.alert_inbox import AlertInbox, serve_inbox

_NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _alert(status: str, name: str = "QuoterClockSkew", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", "instance": "quoter:9464", **labels},
        "annotations": {
            "summary": "our clock disagrees with the venue's; no new quotes",
            "runbook": "docs/runbook.md#quoterclockskew",
        },
        "startsAt": "2026-12-03T12:00:00Z",
        "fingerprint": f"fp-{name}",
    }


@asynccontextmanager
async def _inbox() -> AsyncIterator[tuple[AlertInbox, str, aiohttp.ClientSession]]:
    inbox = AlertInbox(out=io.StringIO())
    async with serve_inbox(inbox, "127.0.0.1", 0) as url, aiohttp.ClientSession() as session:
        yield inbox, url, session


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, Any]:
    async with session.post(f"{url}/quoter/critical", data=body) as answer:
        return answer.status, await answer.json()


async def _page(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(f"{url}/") as answer:
        assert answer.status == 200
        return await answer.text()


async def test_a_firing_alert_is_shown_and_printed_then_moves_to_resolved() -> None:
    async with _inbox() as (inbox, url, session):
        status, _ = await _post(session, url, orjson.dumps({"alerts": [_alert("firing")]}))
        assert status == 200
        page = await _page(session, url)
        assert "quoter alerts: 1 firing" in page
        firing = page.split("<h2>Resolved")[0]
        assert "QuoterClockSkew" in firing
        assert "docs/runbook.md#quoterclockskew" in firing
        await _post(session, url, orjson.dumps({"alerts": [_alert("resolved")]}))
        page = await _page(session, url)
        assert "nothing firing" in page
        assert "QuoterClockSkew" in page.split("<h2>Resolved")[1]
        async with session.get(f"{url}/alerts.json") as answer:
            shown = await answer.json()
    assert shown["firing"] == []
    assert [a["labels"]["alertname"] for a in shown["resolved"]] == ["QuoterClockSkew"]
    printed = inbox.out.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [line.split()[2:5] for line in printed] == [
        ["CRITICAL", "firing", "QuoterClockSkew"],
        ["CRITICAL", "resolved", "QuoterClockSkew"],
    ]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (b'{"receiver": "desk-pager"}', "no 'alerts' list"),
        (orjson.dumps({"alerts": [{**_alert("firing"), "status": "burning"}]}), "alerts[0].status"),
        (
            orjson.dumps({"alerts": [_alert("firing"), {**_alert("firing"), "labels": {"a": 1}}]}),
            "alerts[1].labels",
        ),
    ],
)
async def test_a_body_that_is_not_alertmanagers_is_refused_naming_what(
    body: bytes, named: str
) -> None:
    async with _inbox() as (inbox, url, session):
        status, answer = await _post(session, url, body)
        page = await _page(session, url)
    assert status == 400
    assert named in answer["error"]
    assert answer["error"].startswith("/quoter/critical: ")
    assert inbox.alerts == {}  # nothing of a refused body is kept, not even its good alerts
    assert inbox.refused == 1
    assert "1 delivery(ies) refused" in page
    assert named.replace("'", "&#x27;") in page


async def test_what_an_alert_says_is_shown_as_text_never_as_markup() -> None:
    async with _inbox() as (_, url, session):
        alert = _alert("firing", instance="<script>alert(1)</script>")
        await _post(session, url, orjson.dumps({"alerts": [alert]}))
        page = await _page(session, url)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


async def test_a_request_naming_another_host_is_refused() -> None:
    async with _inbox() as (inbox, url, session):
        body = orjson.dumps({"alerts": [_alert("firing")]})
        headers = {"Host": "rebound.example"}
        async with session.post(f"{url}/quoter/critical", data=body, headers=headers) as answer:
            assert answer.status == 403
    assert inbox.alerts == {}


def test_the_inbox_forgets_resolved_alerts_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alert_inbox, "MAX_ALERTS", 2)
    inbox = AlertInbox(out=io.StringIO())
    for status, name in [("firing", "A"), ("resolved", "B"), ("firing", "C")]:
        body = orjson.dumps({"alerts": [_alert(status, name)]})
        inbox.take(alert_inbox.parse_delivery(body, "/quoter/critical", _NOW, 0.0))
    assert [a.name for a in inbox.firing()] == ["C", "A"]
    assert inbox.resolved() == []


def test_a_non_loopback_address_needs_allow_remote(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alert-inbox", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
