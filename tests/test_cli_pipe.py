"""A reader that goes away (`quoter strategies | head -1`) ends the command quietly: no
BrokenPipeError traceback, neither from a print nor from the flush at exit."""

from __future__ import annotations

import subprocess
import sys

from quoter.cli import BROKEN_PIPE_EXIT


def test_a_closed_pipe_ends_a_command_without_a_traceback() -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "quoter", "strategies"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.close()  # gone before the command says anything
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=60) == BROKEN_PIPE_EXIT
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert err == ""
