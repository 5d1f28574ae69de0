"""A taken port is a clear configuration error naming the section, not a traceback."""

import argparse
import socket
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from quoter import cli
from quoter.basics.errors import ConfigError, ListenError
from quoter.metrics.config import MetricsConfig
from quoter.metrics.server import serve_metrics


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


async def test_a_taken_metrics_port_is_named(taken_port: int) -> None:
    config = MetricsConfig(port=taken_port)
    with pytest.raises(
        ListenError, match=rf"\[metrics\] cannot listen on 127\.0\.0\.1:{taken_port}"
    ):
        async with serve_metrics(config, CollectorRegistry()):
            pass


def test_the_cli_prints_config_errors_raised_inside_task_groups(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(_: object) -> int:
        raise ExceptionGroup("run", [ExceptionGroup("inner", [ListenError("[admin] taken")])])

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", lambda *a, **k: _Args(handler))
    assert cli.main(["run"]) == 2
    assert "quoter: [admin] taken" in capsys.readouterr().err


def test_other_errors_in_a_group_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(_: object) -> int:
        raise ExceptionGroup("run", [ConfigError("bad"), RuntimeError("bug")])

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", lambda *a, **k: _Args(handler))
    with pytest.raises(ExceptionGroup):
        cli.main(["run"])


class _Args:
    def __init__(self, handler: object) -> None:
        self.handler = handler
