"""The README's strategy example works as written: loaded by module path, it prices an RFQ; and,
from a fresh clone with no environment set, the README's own commands find `my_desk/` in the
working directory: `quoter price`, a backtest (its worker processes too) and a swap into a
running bot of a module written after the bot started."""

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import pytest

import quoter
from quoter.backtest.driver import RunSpec
from quoter.backtest.run import Job, run_job
from quoter.backtest.tape import write_tape
from quoter.cli import main
from quoter.strategies_api import StrategyLoadError, load_strategy
from tests.backtest.helpers import short_tape
from tests.engine.bots import desk, sandbox, write_bot_config
from tests.engine.processes import reap, tail, wait_for

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
RFQ = "config/examples/rfq-cal27-base.json"
STRATEGY = "my_desk.fixed_spread:FixedSpread"
# The venv's own `quoter` script: unlike `python -m quoter` it does not put the working
# directory on sys.path, so only quoter's strategy search can find my_desk there.
QUOTER = Path(sys.executable).parent / "quoter"


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    example: str = next(b for b in blocks if "class FixedSpread" in b)
    return example


def readme_command(verb: str) -> list[str]:
    """The README's `quoter VERB ... my_desk...` shell command, its `.venv/bin/quoter` replaced
    by the venv's executable."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    text = next(b for b in blocks if f"quoter {verb}" in b and STRATEGY in b)
    words = shlex.split(text.replace("\\\n", " "))
    assert words[0] == ".venv/bin/quoter", words
    return [str(QUOTER), *words[1:]]


def fresh_clone_env() -> dict[str, str]:
    """The environment of a fresh clone: no PYTHONPATH. One entry put back: the folder of the
    quoter under test, as an install of it would be (the shared venv's editable install points
    at another checkout). It is not the working directory, so finding my_desk is still the
    strategy search's doing."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(quoter.__file__).resolve().parents[1])
    return env


def write_readme_strategy(root: Path) -> Path:
    """my_desk/fixed_spread.py under `root`, exactly as the README shows it (no __init__.py)."""
    module = root / "my_desk" / "fixed_spread.py"
    module.parent.mkdir(exist_ok=True)
    module.write_text(readme_example(), encoding="utf-8")
    return module


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """`tmp_path` as a fresh clone's root, as far as the README's commands need: the example
    RFQ, and the strategy a quant wrote beside it."""
    (tmp_path / RFQ).parent.mkdir(parents=True)
    shutil.copy(ROOT / RFQ, tmp_path / RFQ)
    write_readme_strategy(tmp_path)
    return tmp_path


def run_quoter(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=fresh_clone_env(), capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def readme_strategy(tmp_path: Path) -> Iterator[None]:
    package = tmp_path / "my_desk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fixed_spread.py").write_text(readme_example())
    sys.path.insert(0, str(tmp_path))
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("my_desk")]:
            del sys.modules[name]


@pytest.mark.usefixtures("readme_strategy")
def test_the_readme_strategy_prices_through_quoter_price(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rfq = ROOT / "config" / "examples" / "rfq-cal27-base.json"
    code = main(
        [
            "price",
            str(rfq),
            "--strategy",
            "my_desk.fixed_spread:FixedSpread",
            "--param",
            "half_spread_eur_mwh=0.8",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "quote"
    assert result["components"]["half-spread"] == 0.8
    assert result["price"] == pytest.approx(round(result["mid"] + 0.8, 3))


@pytest.mark.usefixtures("readme_strategy")
@pytest.mark.parametrize("value", [-3, float("nan"), float("inf"), "0.8", 51])
def test_the_readme_strategy_refuses_a_bad_half_spread(value: object) -> None:
    with pytest.raises(StrategyLoadError, match="half_spread_eur_mwh"):
        load_strategy("my_desk.fixed_spread:FixedSpread", {"half_spread_eur_mwh": value})


def test_the_readme_price_command_runs_as_written_in_a_fresh_clone(clone: Path) -> None:
    done = run_quoter(readme_command("price"), clone)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["decision"], result["strategy"]) == ("quote", STRATEGY)
    assert result["components"]["half-spread"] == 0.8
    assert result["price"] == pytest.approx(round(result["mid"] + 0.8, 3))


def test_a_strategy_not_found_is_named_with_the_folders_searched(clone: Path) -> None:
    args = readme_command("price")
    args[args.index(STRATEGY)] = "my_desk.missing:FixedSpread"
    done = run_quoter(args, clone)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot import my_desk.missing" in done.stderr
    assert f"searched the installed packages, {clone}" in done.stderr


def test_the_working_directory_stands_in_for_no_installed_module(clone: Path) -> None:
    """A clone's folder holding a `strategies/` or a `json.py` of its own: quoter's built-ins
    and the standard library are found first, and an attribute looked for in the wrong module
    says which file it looked in."""
    (clone / "strategies").mkdir()
    (clone / "strategies" / "curve_spread.py").write_text("raise SystemExit('shadowed')\n")
    shutil.copy(clone / "my_desk" / "fixed_spread.py", clone / "json.py")
    args = readme_command("price")
    args[args.index(STRATEGY) : args.index(STRATEGY) + 3] = ["curve_spread"]
    assert run_quoter(args, clone).returncode == 0
    args[args.index("curve_spread")] = "json:FixedSpread"
    done = run_quoter(args, clone)
    assert done.returncode == 2
    stdlib_json = str(Path(json.__file__))
    assert f"json:FixedSpread: json ({stdlib_json}) has no 'FixedSpread'" in done.stderr


def test_a_backtest_replays_the_readme_strategy_from_the_working_directory(clone: Path) -> None:
    write_tape(short_tape(minutes=20.0), clone / "tape.parquet")
    args = [str(QUOTER), "backtest", "replay", "tape.parquet", "--strategy", STRATEGY]
    done = run_quoter([*args, "--param", "half_spread_eur_mwh=0.8", "--out", "out"], clone)
    assert done.returncode == 0, done.stderr
    decisions = pd.read_parquet(clone / "out" / "decisions.parquet")
    one_way = decisions[(decisions.action == "quote") & decisions.price.notna()]
    assert len(one_way) > 0
    assert ((one_way.price - one_way.mid).abs() - 0.8).abs().max() < 0.001  # to the tick


def test_a_worker_process_imports_the_strategy_from_the_folders_its_job_names(
    tmp_path: Path,
) -> None:
    """A worker started afresh (spawned, as Dask's are) knows only the job it is handed."""
    write_readme_strategy(tmp_path)
    write_tape(short_tape(minutes=10.0), tmp_path / "tape.parquet")
    spec = RunSpec("0:fixed", STRATEGY, {"half_spread_eur_mwh": 0.8})
    job = Job(tmp_path / "tape.parquet", spec, strategy_folders=(tmp_path,))
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        tables = pool.submit(run_job, job).result(timeout=120)
    assert tables["summary"]["quoted"].iloc[0] > 0


SWAPPED = '''
from dataclasses import dataclass

from quoter.strategies_api import Decline, ReasonCode


@dataclass(frozen=True)
class Wide:
    """Declines everything: {marker}"""

    {marker}: float = 1.0

    def price(self, rfq, market):
        return Decline(ReasonCode.NO_CURVE, "{marker}")
'''


def test_a_swap_loads_modules_written_after_the_bot_started(clone: Path) -> None:
    """A bot started in the clone; then the README's module is written into the working
    directory and another into the configuration's `[strategies] paths` (relative: from the
    configuration's folder), each swapped in; then an edited module is swapped in anew."""
    shutil.rmtree(clone / "my_desk")  # written once the bot runs
    d = desk(clone / "desk")
    with sandbox(d.root, d.env) as venue:
        write_bot_config(d, venue.base_url, deadman=False)
        config = d.config.read_text(encoding="utf-8")
        paths = '[strategies]\npaths = ["desk-strategies"]\n'
        start = '[engine.strategy]\nname = "start_desk:Wide"\n'  # found there at the start
        d.config.write_text(paths + config.replace("[engine]\n", f"{start}[engine]\n", 1))
        _write_wide(d.root / "desk-strategies" / "start_desk.py", "start")
        env = {**fresh_clone_env(), **{k: v for k, v in d.env.items() if k.startswith("QUOTER")}}
        with d.log.open("ab") as log:
            bot = subprocess.Popen(
                [str(QUOTER), "run", "--config", str(d.config)],
                cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        try:
            # The bot's log says when its admin interface listens: waiting for that line, not
            # polling with `quoter status` processes that each pay the package's import.
            wait_for(lambda: _admin_on(d.log, bot), 30, "the bot's admin interface", d.log)
            status = _status(d.config, env, clone)
            assert status is not None
            assert status["strategy"] == "start_desk:Wide"
            swap = readme_command("swap")
            refused = _run([*swap, "--config", str(d.config)], env, clone)
            assert refused.returncode == 2  # not written yet: the bot looked, and said where
            assert f"searched the installed packages, {clone}, {d.root / 'desk-strategies'}" in (
                refused.stderr
            )
            write_readme_strategy(clone)
            assert _swap([*swap, "--config", str(d.config)], env, clone) == STRATEGY
            status = _status(d.config, env, clone)
            assert status is not None
            assert (status["strategy"], status["strategy-params"]) == (
                STRATEGY,
                {"half_spread_eur_mwh": 0.8},
            )
            wide_desk = d.root / "desk-strategies" / "wide_desk.py"
            _write_wide(wide_desk, "first")
            wide = [str(QUOTER), "swap", "wide_desk:Wide", "--config", str(d.config)]
            assert _swap(wide, env, clone) == "wide_desk:Wide"
            first = _version(d.config, env, clone)
            assert first == _source_version(wide_desk)  # it declares none: known by its code
            _write_wide(wide_desk, "second_version")
            edited = [*wide, "--param", "second_version=2"]  # the old code has no such param
            assert _swap(edited, env, clone) == "wide_desk:Wide"
            assert _version(d.config, env, clone) == _source_version(wide_desk) != first
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(15)
            finally:
                reap(bot)
    assert "Traceback" not in d.log.read_text(encoding="utf-8", errors="replace"), tail(d.log)


def _admin_on(log: Path, bot: subprocess.Popen[bytes]) -> bool:
    assert bot.poll() is None, f"the bot exited with {bot.returncode}\n{tail(log)}"
    return "admin interface on http" in log.read_text(encoding="utf-8", errors="replace")


def _write_wide(path: Path, marker: str) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(SWAPPED.replace("{marker}", marker), encoding="utf-8")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=30)


def _swap(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = _run(args, env, cwd)
    assert done.returncode == 0, done.stderr
    to = next(line for line in done.stdout.splitlines() if line.strip().startswith("to"))
    return to.split()[1]


def _version(config: Path, env: dict[str, str], cwd: Path) -> object:
    status = _status(config, env, cwd)
    assert status is not None
    return status["strategy-version"]


def _source_version(module: Path) -> str:
    return "source " + hashlib.sha256(module.read_bytes()).hexdigest()[:12]


def _status(config: Path, env: dict[str, str], cwd: Path) -> dict[str, object] | None:
    args = [str(QUOTER), "status", "--json", "--config", str(config)]
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return None
    answer: dict[str, object] = json.loads(done.stdout)
    return answer
