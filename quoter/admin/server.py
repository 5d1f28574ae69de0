"""The admin interface: an aiohttp app on loopback. Every request must carry the bearer token
(compared in constant time) and a Host naming the address we bound (so a web page a browser
loads cannot reach it by DNS rebinding); every authorised request is audited. Refused ones are
counted (`quoter_admin_refused_total{reason}`) and summarised on the trail, one `admin-refused`
record a minute at most, so a flood of bad calls cannot fill the disk. The token is never
logged nor audited.

    GET  /status    the engine's status
    POST /kill      {areas, products, strategies, reason, by}: latch a kill, withdraw; the
                    answer names the kill and how many of our quotes it covers (withdrawing)
    POST /resume    {by, kills}: lift the latched kills with these ids, or every one
    POST /swap      {name, params, by}: load, validate, then quote with a new strategy
    GET  /shadow    the shadow report from the audit trail
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, ValidationError

from quoter.admin.config import (
    COMMAND_ID_HEADER,
    LATCH_UNUSABLE,
    MAX_REASON_CHARS,
    USER_HEADER,
    AdminConfig,
)
from quoter.admin.swap import swap_strategy
from quoter.audit import events
from quoter.audit.story import load_records
from quoter.basics.listening import host_names, listening
from quoter.basics.loopback import is_loopback
from quoter.engine.audit import AuditError
from quoter.engine.engine import Engine
from quoter.engine.kill_scope import ScopeError, canonical_scope
from quoter.engine.killswitch import (
    MAX_COMMAND_ID,
    Kill,
    LatchError,
    UnknownKill,
    kill_to_json,
    same_kill,
)
from quoter.engine.shadow import report
from quoter.engine.status import status_of
from quoter.strategies_api import StrategyLoadError
from quoter.strategy_names import known_strategies

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
REFUSED_SUMMARY_S = 60.0  # at most one admin-refused record this often
MAX_NAMES_KEPT = 10  # distinct callers and addresses named in one summary
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Admin:
    engine: Engine
    token: SecretStr
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    refusals: _Refusals = field(default_factory=lambda: _Refusals())

    def authorised(self, header: str) -> bool:
        scheme, _, given = header.partition(" ")
        expected = self.token.get_secret_value().encode()
        # Compared even when the scheme is wrong, so the timing tells nothing either way.
        same = hmac.compare_digest(given.strip().encode(), expected)
        return scheme.lower() == "bearer" and same


@dataclass
class _Refusals:
    """Refused calls not yet on the trail, and when the last summary was written."""

    counts: Counter[str] = field(default_factory=Counter)
    who: set[str] = field(default_factory=set)
    remotes: set[str] = field(default_factory=set)
    since: datetime | None = None
    written_s: float = -math.inf

    def add(self, reason: str, who: str, remote: str | None, now: datetime) -> None:
        self.counts[reason] += 1
        self.since = self.since or now
        if len(self.who) < MAX_NAMES_KEPT:
            self.who.add(who)
        if len(self.remotes) < MAX_NAMES_KEPT:
            self.remotes.add(remote or "unknown")

    def summary(self, now: datetime) -> events.AdminRefused:
        return events.AdminRefused(
            refused=dict(self.counts),
            since=self.since.isoformat() if self.since else now.isoformat(),
            until=now.isoformat(),
            who=tuple(sorted(self.who)),
            remotes=tuple(sorted(self.remotes)),
        )


ADMIN_KEY = web.AppKey("admin", _Admin)
WHO_KEY = web.RequestKey("who", str)
DETAIL_KEY = web.RequestKey("detail", dict[str, object])  # what the call did, for the trail


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str | None = Field(None, max_length=100)


class KillBody(_Body):
    areas: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    strategies: list[str] = Field(default_factory=list)
    reason: str = Field("manual kill", min_length=1, max_length=MAX_REASON_CHARS)


class ResumeBody(_Body):
    kills: list[int] | None = Field(None, description="the ids to lift; none: every kill")


class SwapBody(_Body):
    name: str = Field(min_length=1, max_length=300)
    params: dict[str, JsonValue] = Field(default_factory=dict)


BodyT = TypeVar("BodyT", bound="_Body")


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def _refuse(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


async def _parse(request: web.Request, model: type[BodyT]) -> BodyT:
    try:
        return model.model_validate_json(await request.read() or b"{}")
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise web.HTTPBadRequest(
            text=json.dumps({"error": problems}), content_type="application/json"
        ) from None


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    admin = request.app[ADMIN_KEY]
    who = request.headers.get(USER_HEADER, "unknown")[:100]
    request[WHO_KEY] = who
    if request.headers.get("Host", "").lower() not in admin.allowed_hosts:
        _refused(admin, request, "host")
        return _refuse(403, "Host not allowed")
    if not admin.authorised(request.headers.get("Authorization", "")):
        _refused(admin, request, "unauthorised")
        refusal = _refuse(401, "missing or wrong admin token")
        refusal.headers["WWW-Authenticate"] = "Bearer"
        return refusal
    status = 500
    try:
        try:
            answer = await handler(request)
        except web.HTTPException as error:
            status = error.status
            raise
        status = answer.status
        return answer
    finally:
        _audit(admin.engine, request, status)


def _refused(admin: _Admin, request: web.Request, reason: str) -> None:
    """Counted at once; on the trail as a summary, the first at once, then a minute apart."""
    engine = admin.engine
    clock = engine.deps.clock
    engine.desk.stats.admin_refused[reason] += 1
    refusals = admin.refusals
    refusals.add(reason, request[WHO_KEY], request.remote, clock.now())
    if clock.monotonic() - refusals.written_s >= REFUSED_SUMMARY_S:
        _write_refusals(admin)


def _write_refusals(admin: _Admin) -> None:
    engine, refusals = admin.engine, admin.refusals
    if not refusals.counts:
        return
    clock = engine.deps.clock
    record = refusals.summary(clock.now())
    admin.refusals = _Refusals(written_s=clock.monotonic())
    try:
        engine.deps.audit.write(record, clock.now())
    except AuditError as error:
        engine.halt.auto_kill(f"audit write failed: {error}")


def _audit(engine: Engine, request: web.Request, status: int) -> None:
    detail = request.get(DETAIL_KEY)
    call = events.AdminCall(
        method=request.method,
        path=request.path,
        who=request[WHO_KEY],
        outcome=status,
        remote=request.remote,
        detail=events.ABSENT if detail is None else detail,
    )
    try:
        engine.deps.audit.write(call, engine.deps.clock.now())
    except AuditError as error:
        engine.halt.auto_kill(f"audit write failed: {error}")


def _engine(request: web.Request) -> Engine:
    return request.app[ADMIN_KEY].engine


def _status(engine: Engine) -> dict[str, object]:
    desk = engine.desk
    shadow = desk.shadow
    return {
        **status_of(engine.deps, desk, engine.last_plan),
        "strategy-params": desk.strategy.params,
        "shadow": None if shadow is None else shadow.describe(),
    }


async def _get_status(request: web.Request) -> web.Response:
    return _json(_status(_engine(request)))


async def _post_kill(request: web.Request) -> web.Response:
    body = await _parse(request, KillBody)
    engine = _engine(request)
    desk = engine.desk
    by = f"{body.by or request[WHO_KEY]} (admin)"
    # As asked, so the trail shows a refused kill too; as understood once checked.
    asked = {"areas": body.areas, "products": body.products, "strategies": body.strategies}
    detail: dict[str, object] = {"reason": body.reason, "by": by, "scope": asked}
    request[DETAIL_KEY] = detail
    running = (desk.strategy.name, None if desk.shadow is None else desk.shadow.name)
    try:
        scope = canonical_scope(
            body.areas, body.products, body.strategies, lambda: known_strategies(running)
        )
    except ScopeError as error:
        return _refuse(400, f"nothing killed: {error}")
    detail["scope"] = scope.to_json()
    command_id = _command_id(request)
    if command_id is not None:
        detail["command-id"] = command_id
    kill = Kill(
        reason=body.reason, by=by, at=engine.deps.clock.now(), scope=scope, command_id=command_id
    )
    engine.kill(kill)
    # None when nothing new was latched: a kill of everything while already halted. The kill
    # its command latched itself (the bot was slow to answer) when that one came first.
    latched = next((k for k in reversed(engine.deps.killswitch.kills) if same_kill(k, kill)), None)
    covered = [
        q
        for q in desk.quotes
        if scope.covers(q.rfq.instrument.market_area, q.rfq.instrument.product_type, q.strategy)
    ]
    switch = engine.deps.killswitch
    return _json(
        {
            "kill": None if latched is None else kill_to_json(latched),
            "withdrawing": len(covered),
            # Set when the kill is held in the bot's memory only: a restart would not see it.
            "latch-problem": switch.latch_problem if latched in switch.unwritten else None,
            **_status(engine),
        }
    )


def _command_id(request: web.Request) -> str | None:
    """The kill's command, if it says one that fits the latch; a kill is never refused for it."""
    value = request.headers.get(COMMAND_ID_HEADER)
    if value is None or not 0 < len(value) <= MAX_COMMAND_ID or not value.isascii():
        return None
    return value


async def _post_resume(request: web.Request) -> web.Response:
    body = await _parse(request, ResumeBody)
    engine = _engine(request)
    try:
        lifted = engine.resume(f"{body.by or request[WHO_KEY]} (admin)", body.kills)
    except UnknownKill as error:
        return _refuse(400, f"nothing lifted: {error}")
    except LatchError as error:  # which kills are latched is not known: none is lifted
        return _refuse(LATCH_UNUSABLE, f"nothing lifted: {error}")
    detail: dict[str, object] = {"lifted": [k.reason for k in lifted]}
    request[DETAIL_KEY] = detail
    return _json({"lifted": [kill_to_json(k) for k in lifted], **_status(engine)})


async def _post_swap(request: web.Request) -> web.Response:
    body = await _parse(request, SwapBody)
    engine = _engine(request)
    by = f"{body.by or request[WHO_KEY]} (admin)"
    detail: dict[str, object] = {"name": body.name, "params": body.params}
    request[DETAIL_KEY] = detail
    try:
        old, new = await swap_strategy(engine, body.name, body.params, by=by, source="admin")
    except StrategyLoadError as error:
        return _refuse(400, str(error))
    return _json({"old": old.describe(), "new": new.describe()})


async def _get_shadow(request: web.Request) -> web.Response:
    engine = _engine(request)
    directory = engine.deps.config.audit_dir
    try:
        found = await asyncio.to_thread(lambda: report(load_records(directory)))
    except events.EventError as error:  # the trail holds a record the report cannot read
        return _refuse(500, f"{directory}: {error}")
    shadow = engine.desk.shadow
    return _json({"shadow": None if shadow is None else shadow.describe(), **found})


def build_app(engine: Engine, token: SecretStr) -> web.Application:
    app = web.Application(middlewares=[_guard], client_max_size=MAX_BODY_BYTES)
    app[ADMIN_KEY] = _Admin(engine, token)
    app.router.add_get("/status", _get_status)
    app.router.add_post("/kill", _post_kill)
    app.router.add_post("/resume", _post_resume)
    app.router.add_post("/swap", _post_swap)
    app.router.add_get("/shadow", _get_shadow)
    return app


def allowed_hosts(config: AdminConfig, port: int) -> frozenset[str]:
    """The Host headers a request may carry: the loopback names of the bound port, and the
    configured host itself."""
    return host_names(config.host, port)


@asynccontextmanager
async def serve_admin(config: AdminConfig, engine: Engine, token: SecretStr) -> AsyncIterator[str]:
    """Serve until the block ends; yields the base URL (with the bound port)."""
    if not config.allow_remote and not is_loopback(config.host):
        raise ValueError(f"admin host {config.host!r} is not loopback; set allow_remote")
    app = build_app(engine, token)
    async with listening(app, config.host, config.port, "admin") as (_, port):
        app[ADMIN_KEY].allowed_hosts = allowed_hosts(config, port)
        url = config.url(port)
        log.info("admin interface on %s", url)
        try:
            yield url
        finally:
            _write_refusals(app[ADMIN_KEY])  # the last minute's refusals
