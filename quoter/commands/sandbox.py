"""`quoter sandbox`: run the sandbox venue with its market on until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from quoter.config import load_config
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.credentials import CredentialSource, write_env_file
from quoter.sandbox.server import RunningSandbox, run_sandbox


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox", help="run the sandbox venue (a simulated entender) on loopback"
    )
    parser.add_argument("--config", type=Path, help="TOML configuration (section [sandbox])")
    parser.add_argument("--host", help="address to bind (loopback unless allow_remote)")
    parser.add_argument("--port", type=int, help="port to bind (0: any free port)")
    parser.add_argument("--speed", type=float, help="sandbox seconds per real second")
    parser.add_argument("--seed", type=int, help="seed of the simulated market")
    parser.set_defaults(handler=run)


def sandbox_config(args: argparse.Namespace) -> SandboxConfig:
    """The file's [sandbox] section with the command line's overrides, validated again."""
    base = load_config(args.config).sandbox
    overrides = {
        name: getattr(args, name)
        for name in ("host", "port", "speed", "seed")
        if getattr(args, name) is not None
    }
    return SandboxConfig.model_validate(base.model_dump() | overrides)


def describe(running: RunningSandbox, config: SandboxConfig) -> list[str]:
    """What to tell the person who started it; never a secret value."""
    lines = [f"sandbox: serving {running.base_url} (prefixes /v2.0 /v2.1 /v2.2)"]
    if running.credential_source is CredentialSource.GENERATED:
        write_env_file(running.credentials, config.credentials_file)
        lines.append(
            f"sandbox: credentials generated; `source {config.credentials_file}` (mode 0600)"
        )
    else:
        lines.append(f"sandbox: credentials from the {running.credential_source.value}")
    lines.append(f"sandbox: controls at {running.base_url}/_sandbox/ ; Ctrl-C stops")
    return lines


async def serve(config: SandboxConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with run_sandbox(config) as running:
            for line in describe(running, config):
                print(line, flush=True)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def run(args: argparse.Namespace) -> int:
    config = sandbox_config(args)
    asyncio.run(serve(config))
    print("sandbox: stopped", flush=True)
    return 0
