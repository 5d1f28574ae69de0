"""A bot that starts on a latched kill says so before anything else: HALTED, by which kill (its
id, reason and scope, as `quoter status` words it) and how to lift it; in whole for a kill of
everything, in part for a scoped one. Read from a real `quoter run --config` process's output
against a `quoter sandbox` process (this checkout's code: PYTHONPATH names it)."""

from __future__ import annotations

from pathlib import Path

from quoter.engine.killswitch import Kill, KillSwitch, Scope, start_banner
from tests.engine.bots import desk, sandbox, start_output, this_checkout, write_bot_config
from tests.factories import T0

RESUME_HINT = "        `quoter resume --kill ID` lifts one, `quoter resume` every one"


def _banner(lines: list[str]) -> list[str]:
    """From the HALTED line to the hint that ends it; [] if nothing says HALTED."""
    start = next((n for n, line in enumerate(lines) if line.startswith("HALTED")), len(lines))
    end = next((n for n, line in enumerate(lines) if line == RESUME_HINT), len(lines))
    return lines[start : end + 1]


def test_a_run_that_starts_on_a_latched_kill_says_it_is_halted_and_how_to_resume(
    tmp_path: Path,
) -> None:
    d = this_checkout(desk(tmp_path))
    latch = KillSwitch(d.var / "kill-latch.json")
    with sandbox(tmp_path, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)
        normal = start_output(d)[0]
        assert not any("HALTED" in line or "KILLED" in line for line in normal), normal

        latch.kill(Kill(reason="before the open", by="ann (cli)", at=T0))
        whole = start_output(d)[0]
        latch.resume()
        de_months = Scope(areas=frozenset({"DE"}), products=frozenset({"month"}))
        latch.kill(Kill(reason="DE months", by="bob (cli)", at=T0, scope=de_months))
        latch.kill(
            Kill(reason="swap due", by="eve", at=T0, scope=Scope(strategies=frozenset({"s"})))
        )
        scoped = start_output(d)[0]

    at = "2026-03-02 10:15:00+01:00"  # T0 in the desk's zone, as the status shows it
    assert _banner(whole) == [
        "HALTED: kill 1 (everything) is latched: nothing is quoted until `quoter resume`",
        f"KILLED  before the open — kill 1, everything, by ann (cli) at {at}",
        RESUME_HINT,
    ], "\n".join(whole)
    assert _banner(scoped) == [
        "HALTED in part: kill 2 (areas DE; products month) and kill 3 (strategies s) are"
        " latched: nothing they cover is quoted until `quoter resume`; the rest is quoted",
        f"KILLED  DE months — kill 2, areas DE; products month, by bob (cli) at {at}",
        f"KILLED  swap due — kill 3, strategies s, by eve at {at}",
        RESUME_HINT,
    ], "\n".join(scoped)


def test_the_banner_names_a_single_scoped_kill_and_a_whole_one_among_scoped_ones() -> None:
    scoped = {"id": 4, "reason": "r", "by": "b", "at": T0.isoformat(), "scope": {"areas": ["FR"]}}
    whole = {**scoped, "id": 5, "scope": {}}
    assert start_banner([]) == []
    assert start_banner([scoped])[0] == (
        "HALTED in part: kill 4 (areas FR) is latched: nothing it covers is quoted until"
        " `quoter resume`; the rest is quoted"
    )
    assert start_banner([scoped, whole])[0] == (
        "HALTED: kill 4 (areas FR) and kill 5 (everything) are latched: nothing is quoted"
        " until `quoter resume`"
    )
