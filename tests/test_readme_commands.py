"""The README's commands work exactly as written, from a fresh clone.

Every command line of the README's `sh` blocks is either run here, as written, by the shell, in
a throwaway folder laid out as a fresh clone (its `.venv`, `Makefile`, `config/` and
`backtests/` from this checkout), or named below with the reason it cannot run on a test
machine and the test that covers it instead. A command added to the README without either
fails `test_every_readme_command_is_run_or_accounted_for`.

One substitution, said here: the clone's `backtests/sample-tape.parquet` is the sample's first
two days, not its month, so that the README's backtests take seconds; the commands, the desk
file and the sweep file are the README's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.test_readme_strategy import fresh_clone_env, write_readme_strategy

# The README's long-running commands use the default ports (the sandbox's 8642, the demo's
# metrics and admin 9464 and 9465): under `pytest -n 2 --dist loadgroup` the tests that start
# them run on one worker, in turn. The others (price, backtests) listen on nothing and may run
# beside them: the sweep and the backtest are the module's longest tests.
DEFAULT_PORTS = pytest.mark.xdist_group("readme-default-ports")

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SAMPLE_DAYS = 2

# Commands that cannot run on a test machine, and what checks them instead.
NOT_HERE = {
    "make test": "this suite itself",
    "export QUOTER_CLIENT_ID=... QUOTER_CLIENT_SECRET=... QUOTER_API_KEY=...": (
        "a real venue's credentials; tests/test_example_config.py starts the example config"
    ),
    ".venv/bin/quoter run --config my-desk.toml": (
        "the desk's own file on a real venue; tests/engine run a configured bot on a sandbox"
    ),
    ".venv/bin/quoter backtest replay backtests/sample-tape.parquet --config "
    "backtests/sample-desk.toml --sweep config/examples/sweep.toml --cluster "
    "tcp://scheduler:8786": (
        "a Dask scheduler named `scheduler`; tests/backtest/test_cluster.py sweeps on a real "
        "local cluster"
    ),
    ".venv/bin/quoter backtest record --config my-desk.toml --from 2026-03-02T00:00:00Z --to "
    "2026-03-07T00:00:00Z --out var/venue-tape.parquet": (
        "a real venue; tests/backtest/test_record_cli.py records from a sandbox process"
    ),
    "docker compose up --build": (
        "no Docker engine; tests/observability check the compose file offline and run its "
        "services as processes"
    ),
    "docker compose logs -f alert-inbox": (
        "no Docker engine; tests/observability/test_alert_inbox.py runs the inbox, and "
        "test_live_alerts.py has a real Alertmanager deliver to it"
    ),
    "docker compose exec quoter quoter status --config config/compose/quoter.toml": (
        "no Docker engine; tests/admin run status against a configured bot"
    ),
    "docker compose exec quoter quoter kill --config config/compose/quoter.toml": (
        "no Docker engine; tests/admin and tests/engine kill a configured bot"
    ),
}


def readme_commands() -> list[str]:
    """Every command line of the README's sh blocks: continuations joined, comments and a
    trailing `&` dropped, spaces collapsed."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+", " ", line.split(" #")[0]).strip().removesuffix("&").strip()
            if line:
                lines.append(line)
    return lines


# The commands run here, by the pattern that finds each; each test below runs its own.
RUN_HERE = (
    r"^make run$",
    r"quoter swap my_desk",
    r"var/demo/sandbox-credentials\.env",
    r"^\.venv/bin/quoter sandbox$",
    r"sandbox-trades\.csv",
    r"--record-tape",
    r"quoter price ",
    r"--strategy curve_spread --strategy curve_spread",
    r"--sweep config/examples/sweep\.toml --workers 2$",
)


def shown(pattern: str) -> str:
    """The one README command that `pattern`, one of RUN_HERE, finds."""
    assert pattern in RUN_HERE
    (line,) = [line for line in readme_commands() if re.search(pattern, line)]
    return line


@pytest.fixture(scope="module")
def sample_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's first SAMPLE_DAYS days, cut once for the module's clones (each gets a copy
    of its own: a command that wrote to its tape could not reach another test's)."""
    sample = pd.read_parquet(ROOT / "backtests" / "sample-tape.parquet")
    first = sample["created_at"].min()
    cut = sample[sample["created_at"] < first + pd.Timedelta(days=SAMPLE_DAYS)]
    path = tmp_path_factory.mktemp("sample") / "sample-tape.parquet"
    cut.to_parquet(path, index=False)
    return path


@pytest.fixture
def clone(tmp_path: Path, sample_days: Path) -> Path:
    """A folder laid out as a fresh clone, as far as the README's commands need."""
    for name in (".venv", "Makefile", "pyproject.toml", "config"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "backtests").mkdir()
    (tmp_path / "backtests" / "sample-desk.toml").symlink_to(ROOT / "backtests/sample-desk.toml")
    shutil.copyfile(sample_days, tmp_path / "backtests" / "sample-tape.parquet")
    write_readme_strategy(tmp_path)
    return tmp_path


def environment() -> dict[str, str]:
    """A fresh clone's: no PYTHONPATH set by the user, no QUOTER_* from this machine."""
    return {k: v for k, v in fresh_clone_env().items() if not k.startswith("QUOTER_")}


def shell(line: str, cwd: Path, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Background:
    """A long-running README command, started in its own session as a terminal's job is, its
    output read line by line; `interrupt` is the user's Ctrl-C."""

    def __init__(self, line: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {line}" if not line.startswith("make") else line],
            cwd=cwd,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match[str]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        os.set_blocking(self.process.stdout.fileno(), False)
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line:
                self.output.append(line)
                found = re.search(pattern, line)
                if found:
                    return found
            elif self.process.poll() is not None:
                break
            else:
                time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n{''.join(self.output)[-4000:]}")

    def interrupt(self, timeout: float = 30.0) -> str:
        os.killpg(self.process.pid, signal.SIGINT)
        rest, _ = self.process.communicate(timeout=timeout)
        self.output.append(rest)
        return "".join(self.output)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate()


@pytest.fixture
def background() -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for job in started:
        job.kill()


@DEFAULT_PORTS
def test_make_run_quotes_the_demo_and_the_readme_commands_steer_it(
    clone: Path, background: list[Background]
) -> None:
    if subprocess.run(["make", "-q", "setup"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.fail("the venv is older than pyproject.toml: run `make setup` first")
    demo = Background(shown(r"^make run$"), clone)
    background.append(demo)
    demo.wait_for(r"^quotes +sent [1-9]")

    swapped = shell(shown(r"quoter swap my_desk"), clone)
    assert swapped.returncode == 0, swapped.stderr
    assert "my_desk.fixed_spread:FixedSpread" in swapped.stdout

    exported = shell(shown(r"var/demo/sandbox-credentials\.env"), clone)
    assert exported.returncode == 0, exported.stderr
    assert re.search(r"^\d+ trades? from .* written to var/demo/trades\.parquet", exported.stdout)

    text = demo.interrupt()
    assert "every live quote withdrawn" in text
    assert not (clone / "var" / "audit").exists()  # the demo keeps to var/demo


@DEFAULT_PORTS
def test_the_readme_sandbox_serves_the_trades_export(
    clone: Path, background: list[Background]
) -> None:
    sandbox = Background(shown(r"^\.venv/bin/quoter sandbox$"), clone)
    background.append(sandbox)
    sandbox.wait_for(r"sandbox-credentials\.env")
    exported = shell(shown(r"sandbox-trades\.csv"), clone)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("0 trades from "), exported.stdout
    header = (clone / "var" / "sandbox-trades.csv").read_text().splitlines()[0]
    assert "traded" in header  # an empty result still has its header
    sandbox.interrupt()


@DEFAULT_PORTS
def test_the_readme_sandbox_records_a_tape_on_ctrl_c(
    clone: Path, background: list[Background]
) -> None:
    sandbox = Background(shown(r"--record-tape"), clone)
    background.append(sandbox)
    url = sandbox.wait_for(r"sandbox: serving (http://\S+)").group(1)
    # The market's own arrivals are random (and none come outside its hours): one RFQ put on
    # the market through the sandbox's control makes the recording's content certain.
    request = urllib.request.Request(f"{url}/_sandbox/rfqs", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        created = json.load(answer)["id"]
    text = sandbox.interrupt()
    assert re.search(r"sandbox: [1-9]\d* RFQs? recorded to var/sandbox-tape\.parquet", text), text
    assert created in set(pd.read_parquet(clone / "var" / "sandbox-tape.parquet")["id"])


def test_the_readme_price_command(clone: Path) -> None:
    config = clone / "config" / "examples" / "rfq-cal27-base.json"
    assert config.exists()
    priced = shell(shown(r"quoter price "), clone)
    assert priced.returncode == 0, priced.stderr
    assert '"half-spread": 0.8' in priced.stdout


def test_the_readme_backtest_compares_two_runs(clone: Path) -> None:
    ran = shell(shown(r"--strategy curve_spread --strategy curve_spread"), clone)
    assert ran.returncode == 0, ran.stderr
    summary = pd.read_csv(clone / "var" / "backtest" / "summary.csv")
    assert len(summary) == 2
    assert (clone / "var" / "backtest" / "report.html").exists()


def test_the_readme_sweep_runs_every_run_of_the_sweep_file(clone: Path) -> None:
    ran = shell(shown(r"--sweep config/examples/sweep\.toml --workers 2$"), clone)
    assert ran.returncode == 0, ran.stderr
    summary = pd.read_csv(clone / "var" / "backtest" / "summary.csv")
    assert len(summary) == 5  # the grid's 2 x 2 and the one run listed


def test_every_readme_command_is_run_or_accounted_for() -> None:
    run_here = [line for line in readme_commands() if any(re.search(p, line) for p in RUN_HERE)]
    assert len(run_here) == len(RUN_HERE)  # each pattern finds one command, none two
    unaccounted = [line for line in readme_commands() if line not in [*run_here, *NOT_HERE]]
    assert unaccounted == []
    stale = [line for line in NOT_HERE if line not in readme_commands()]
    assert stale == []
