"""Serving an aiohttp app on a configured address: the one way the sandbox, the metrics
endpoint and the admin interface listen, so a taken port reads the same everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiohttp import web

from quoter.basics.errors import ListenError


@asynccontextmanager
async def listening(
    app: web.Application, host: str, port: int, section: str
) -> AsyncIterator[tuple[str, int]]:
    """Serve `app` until the block ends; yields the bound host and port (port 0: any free one).
    A port that cannot be had is a ListenError naming the configuration `section`."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise ListenError(
                f"[{section}] cannot listen on {host}:{port}: {error.strerror}; "
                f"change [{section}] host or port"
            ) from None
        bound_host, bound_port = runner.addresses[0][:2]
        yield str(bound_host), int(bound_port)
    finally:
        await runner.cleanup()


def http_url(host: str, port: int, path: str = "") -> str:
    """`http://host:port/path`, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def host_names(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host headers a request to `host:port` may carry: the loopback names, the configured
    host and `extra` names, each with the port. Checking them keeps a web page a browser loads
    from reaching the port by DNS rebinding (its Host is the attacker's name)."""
    names = {"127.0.0.1", "localhost", "[::1]", host, *extra}
    shown = {f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names}
    return frozenset(f"{name.lower()}:{port}" for name in shown)
