"""The suite's guard: a session that changes the checkout (even under the ignored var/) fails,
and outside a git checkout the guard stands aside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import tree_state

ROOT = Path(__file__).resolve().parent.parent

GUARDED_CONFTEST = "from tests.conftest import pytest_sessionfinish, pytest_sessionstart\n"
WRITES_INTO_VAR = """\
from pathlib import Path


def test_writes_into_the_checkout() -> None:
    Path("var").mkdir(exist_ok=True)
    Path("var/trades.parquet").write_bytes(b"")
"""


def _git_checkout(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / ".gitignore").write_text("/var/\n")
    (path / "conftest.py").write_text(GUARDED_CONFTEST)
    (path / "test_writer.py").write_text(WRITES_INTO_VAR)
    subprocess.run(["git", "-C", str(path), "add", "-A"], check=True)
    email, name = "user.email=t@example.invalid", "user.name=t"
    subprocess.run(
        ["git", "-C", str(path), "-c", email, "-c", name, "commit", "-qm", "t"], check=True
    )


def test_a_session_that_writes_into_the_checkout_fails(tmp_path: Path) -> None:
    _git_checkout(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "!! var/trades.parquet" in done.stdout


def test_the_state_of_a_tree_that_is_no_checkout_is_none(tmp_path: Path) -> None:
    assert tree_state(tmp_path) is None
