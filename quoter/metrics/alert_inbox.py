"""The alert inbox: where the compose stack's Alertmanager delivers until the desk points it at
its own pager and chat. It takes Alertmanager's webhook JSON on any path (the receivers post to
`/quoter/critical` and `/quoter/warning`), prints each alert as one line (`docker compose logs
-f alert-inbox` follows them), and shows the firing ones first, then the resolved, on a page
that refreshes itself (`GET /`; `GET /alerts.json` the same as JSON).

A body that is not Alertmanager's webhook JSON is refused 400 naming what is wrong, counted on
the page, and changes nothing. The inbox keeps the latest state of at most MAX_ALERTS alerts
(by Alertmanager's fingerprint), forgetting the resolved ones first."""

from __future__ import annotations

import html
import logging
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

import orjson
from aiohttp import web

from quoter.basics.listening import host_names, http_url, listening
from quoter.clock import Clock, SystemClock

MAX_ALERTS = 500
MAX_BODY_BYTES = 1 << 20
HISTORY = 1000  # the deliveries remembered in order (GET /alerts.json, tests)
REFRESH_S = 10
SERVICE = "alert-inbox"  # its name in docker-compose.yml, the Host Alertmanager posts with

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadDelivery(ValueError):
    """A body that is not Alertmanager's webhook JSON: the message says what and where."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert as a receiver got it: `path` says which receiver (`/quoter/critical`)."""

    at_s: float  # the inbox clock's monotonic() when it arrived
    received: datetime
    path: str
    status: str  # "firing" or "resolved", the alert's own
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "?")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def line(self) -> str:
        """The alert in one line, as printed."""
        where = " ".join(
            f"{k}={v}" for k, v in sorted(self.labels.items()) if k not in {"alertname", "severity"}
        )
        summary = self.annotations.get("summary", "")
        runbook = self.annotations.get("runbook")
        tail = f" (runbook: {runbook})" if runbook else ""
        return (
            f"{self.received:%Y-%m-%d %H:%M:%S}Z {self.severity.upper() or '-'} {self.status} "
            f"{self.name} {where}: {summary}{tail}"
        )


def parse_delivery(body: bytes, path: str, now: datetime, at_s: float) -> list[Delivery]:
    """The alerts of one webhook call; BadDelivery if the body is not Alertmanager's JSON."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadDelivery(f"the body is not JSON: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("alerts"), list):
        raise BadDelivery("the body is not Alertmanager's webhook JSON: no 'alerts' list")
    alerts = []
    for index, alert in enumerate(raw["alerts"]):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict):
            raise BadDelivery(f"{where} is not an object")
        status = alert.get("status")
        if status not in {"firing", "resolved"}:
            raise BadDelivery(f"{where}.status is {status!r}, not 'firing' or 'resolved'")
        labels = _texts(alert.get("labels"), f"{where}.labels")
        annotations = _texts(alert.get("annotations", {}), f"{where}.annotations")
        fingerprint = alert.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            fingerprint = "|".join(f"{k}={v}" for k, v in sorted(labels.items()))
        starts = alert.get("startsAt")
        alerts.append(
            Delivery(
                at_s=at_s,
                received=now,
                path=path,
                status=status,
                labels=labels,
                annotations=annotations,
                starts_at=starts if isinstance(starts, str) else "",
                fingerprint=fingerprint,
            )
        )
    return alerts


def _texts(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise BadDelivery(f"{where} is not an object of strings")
    return dict(raw)


@dataclass
class AlertInbox:
    """The alerts received, by fingerprint (latest state), and the deliveries in order."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    clock: Clock = field(default_factory=SystemClock)
    alerts: dict[str, Delivery] = field(default_factory=dict)
    history: deque[Delivery] = field(default_factory=lambda: deque(maxlen=HISTORY))
    refused: int = 0
    last_refusal: str = ""

    def take(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.alerts.pop(delivery.fingerprint, None)  # re-inserted: newest last
            self.alerts[delivery.fingerprint] = delivery
            self.history.append(delivery)
            print(delivery.line(), file=self.out, flush=True)
        self._bound()

    def refuse(self, why: str) -> None:
        self.refused += 1
        self.last_refusal = why
        print(f"refused a delivery: {why}", file=self.out, flush=True)

    def _bound(self) -> None:
        while len(self.alerts) > MAX_ALERTS:
            resolved = next((k for k, a in self.alerts.items() if a.status == "resolved"), None)
            del self.alerts[resolved if resolved is not None else next(iter(self.alerts))]

    def firing(self) -> list[Delivery]:
        """Firing alerts, critical first, newest first within a severity."""
        firing = [a for a in reversed(self.alerts.values()) if a.status == "firing"]
        return sorted(firing, key=lambda a: a.severity != "critical")

    def resolved(self) -> list[Delivery]:
        return [a for a in reversed(self.alerts.values()) if a.status == "resolved"]


INBOX_KEY = web.AppKey("inbox", AlertInbox)
HOSTS_KEY = web.AppKey("hosts", set[str])


async def _receive(request: web.Request) -> web.Response:
    inbox = request.app[INBOX_KEY]
    body = await request.read()
    try:
        clock = inbox.clock
        deliveries = parse_delivery(body, request.path, clock.now(), clock.monotonic())
    except BadDelivery as error:
        inbox.refuse(f"{request.path}: {error}")
        payload = {"error": f"{request.path}: {error}"}
        return web.json_response(payload, status=400)
    inbox.take(deliveries)
    return web.json_response({"received": len(deliveries)})


async def _page(request: web.Request) -> web.Response:
    inbox = request.app[INBOX_KEY]
    return web.Response(text=render_page(inbox), content_type="text/html")


async def _json(request: web.Request) -> web.Response:
    inbox = request.app[INBOX_KEY]
    payload = {
        "firing": [_as_json(a) for a in inbox.firing()],
        "resolved": [_as_json(a) for a in inbox.resolved()],
        "refused": inbox.refused,
    }
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _as_json(alert: Delivery) -> dict[str, object]:
    return {
        "status": alert.status,
        "received": alert.received.isoformat(),
        "receiver": alert.path,
        "starts-at": alert.starts_at,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
    }


def render_page(inbox: AlertInbox) -> str:
    """The page a person reads: what is firing, then what has resolved; every text escaped."""
    firing, resolved = inbox.firing(), inbox.resolved()
    head = "nothing firing" if not firing else f"{len(firing)} firing"
    rows = [
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{REFRESH_S}'><title>quoter alerts: {head}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left;"
        "vertical-align:top}.critical{color:#b00}.warning{color:#a60}.resolved{color:#666}"
        "</style></head><body>",
        f"<h1>quoter alerts: {head}</h1>",
        "<p>Alertmanager delivers here until its receivers point at the desk's pager and "
        "chat (config/alertmanager/alertmanager.yml). The runbook says what each means.</p>",
    ]
    if inbox.refused:
        rows.append(
            f"<p class='critical'>{inbox.refused} delivery(ies) refused, the last: "
            f"{html.escape(inbox.last_refusal)}</p>"
        )
    for title, alerts in (("Firing", firing), ("Resolved", resolved)):
        rows.append(f"<h2>{title} ({len(alerts)})</h2>")
        if not alerts:
            continue
        rows.append(
            "<table><tr><th>severity</th><th>alert</th><th>where</th><th>what</th>"
            "<th>since</th><th>runbook</th></tr>"
        )
        for alert in alerts:
            rows.append(_row(alert))
        rows.append("</table>")
    rows.append("</body></html>")
    return "\n".join(rows)


def _row(alert: Delivery) -> str:
    cls = "resolved" if alert.status == "resolved" else alert.severity
    where = ", ".join(
        f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in {"alertname", "severity"}
    )
    what = alert.annotations.get("summary", "")
    detail = alert.annotations.get("description", "")
    cells = [
        alert.severity,
        alert.name,
        where,
        f"{what}\n{detail}".strip(),
        alert.starts_at or f"{alert.received:%Y-%m-%d %H:%M:%S}Z",
        alert.annotations.get("runbook", ""),
    ]
    shown = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    return f"<tr class='{html.escape(cls)}'>{shown}</tr>"


@web.middleware
async def _host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A Host that is not a name of the bound port (loopback, the host bound, the compose
    service's name) is refused 403: no web page posts alerts or reads them by DNS rebinding."""
    if request.headers.get("Host", "").lower() not in request.app[HOSTS_KEY]:
        return web.Response(status=403, text="Host not allowed\n")
    return await handler(request)


def build_app(inbox: AlertInbox) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_host_check])
    app[INBOX_KEY] = inbox
    app[HOSTS_KEY] = set()
    app.router.add_get("/", _page)
    app.router.add_get("/alerts.json", _json)
    app.router.add_post("/{receiver:.*}", _receive)
    return app


@asynccontextmanager
async def serve_inbox(
    inbox: AlertInbox, host: str = "127.0.0.1", port: int = 8080
) -> AsyncIterator[str]:
    """Serve until the block ends; yields the inbox's URL (with the bound port)."""
    app = build_app(inbox)
    async with listening(app, host, port, "alert-inbox") as bound:
        app[HOSTS_KEY].update(host_names(host, bound[1], (SERVICE,)))
        url = http_url(*bound)
        log.info("alert inbox on %s", url)
        yield url
