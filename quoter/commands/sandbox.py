"""`quoter sandbox`: run the sandbox venue with its market on until Ctrl-C or SIGTERM; with
`--record-tape PATH`, write every RFQ it served, with its outcome drivers, as a backtest tape
when it stops (see quoter/backtest/record.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from quoter.backtest.record import SandboxRecorder, shapes_dir_for
from quoter.backtest.tape import SUFFIXES as TAPE_SUFFIXES
from quoter.backtest.tape import write_tape
from quoter.commands._flags import PORT, SANDBOX_SPEED, number, whole
from quoter.config import load_config
from quoter.sandbox.config import SandboxConfig
from quoter.sandbox.credentials import CredentialSource, write_env_file
from quoter.sandbox.server import RunningSandbox, run_sandbox

COLLECT_EVERY_S = 0.1  # real seconds: the store must not evict an RFQ before it is collected


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox", help="run the sandbox venue (a simulated entender) on loopback"
    )
    parser.add_argument("--config", type=Path, help="TOML configuration (section [sandbox])")
    parser.add_argument("--host", help="address to bind (loopback unless allow_remote)")
    parser.add_argument("--port", type=whole(PORT), help="port to bind (0: any free port)")
    parser.add_argument(
        "--speed", type=number(SANDBOX_SPEED), help="sandbox seconds per real second"
    )
    parser.add_argument("--seed", type=int, help="seed of the simulated market")
    parser.add_argument(
        "--record-tape",
        type=Path,
        metavar="PATH",
        help="on stop, write the RFQs served as a backtest tape (.parquet or .csv)",
    )
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


async def serve(config: SandboxConfig, record_to: Path | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with run_sandbox(config) as running:
            for line in describe(running, config):
                print(line, flush=True)
            if record_to is None:
                await stop.wait()
            else:
                recorder = SandboxRecorder(running.state)
                try:
                    await collect_until(recorder, stop)
                finally:  # what was recorded is kept, however the sandbox stops
                    write_recording(recorder, record_to)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def collect_until(recorder: SandboxRecorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        recorder.collect()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), COLLECT_EVERY_S)


def write_recording(recorder: SandboxRecorder, path: Path) -> None:
    tape = recorder.tape(shapes_dir_for(path))
    write_tape(tape, path)
    print(f"sandbox: {len(tape)} RFQs recorded to {path}", flush=True)
    if recorder.dropped:
        print(f"sandbox: {recorder.dropped} later RFQs not recorded (recording full)", flush=True)
    if recorder.gaps:
        print(
            f"sandbox: the store turned over {recorder.gaps} time(s) between two looks: "
            "some RFQs were never recorded (raise the sandbox's max_rfqs)",
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    config = sandbox_config(args)
    record_to: Path | None = args.record_tape
    if record_to is not None and record_to.suffix not in TAPE_SUFFIXES:
        print(
            f"quoter sandbox: --record-tape {record_to}: give a .parquet or .csv path",
            file=sys.stderr,
        )
        return 2
    asyncio.run(serve(config, record_to))
    print("sandbox: stopped", flush=True)
    return 0
