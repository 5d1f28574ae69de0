from pathlib import Path

import pytest

from quoter.basics.errors import ConfigError
from quoter.config import load_config, load_config_for, parse_config
from quoter.venue.config import load_credentials

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_need_no_file() -> None:
    config = load_config(None)
    assert config.venue.api_prefix == "/v2.2"
    assert config.venue.usage_plan.daily_quota == 5000


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[venue]\nbase_url = "http://x"\ncolour = "red"\n[venue.usage_plan]\nbrust = 3\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "venue.colour: unknown key" in message
    assert "venue.usage_plan.brust: unknown key" in message


def test_bad_values_are_named() -> None:
    with pytest.raises(ConfigError, match=r"venue\.usage_plan\.burst"):
        parse_config({"venue": {"usage_plan": {"burst": -1}}})


def test_reserves_must_leave_room_for_polling() -> None:
    with pytest.raises(ConfigError, match="burst reserves"):
        parse_config({"venue": {"usage_plan": {"withdraw_reserve_burst": 85}}})


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[venue\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(path)


def test_configuration_is_frozen() -> None:
    config = load_config(None)
    with pytest.raises(ValueError, match="frozen"):
        config.venue.request_timeout_s = 1.0  # type: ignore[misc]


def test_credentials_come_from_the_environment_and_never_show() -> None:
    env = {"QUOTER_CLIENT_ID": "id-1", "QUOTER_CLIENT_SECRET": "s3cr3t", "QUOTER_API_KEY": "k3y"}
    credentials = load_credentials(env)
    assert credentials.client_secret.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(credentials)
    assert "k3y" not in str(credentials)


def test_missing_credentials_are_named_without_values() -> None:
    with pytest.raises(ConfigError, match="QUOTER_CLIENT_SECRET, QUOTER_API_KEY"):
        load_credentials({"QUOTER_CLIENT_ID": "id-1"})


def test_false_turns_the_trade_file_off() -> None:
    """TOML has no null: `trades_file = false` is how a desk says it keeps no trade file."""
    assert parse_config({"engine": {"trades_file": False}}).engine.trades_file is None
    assert parse_config({}).engine.trades_file == Path("var/trades.parquet")


@pytest.mark.parametrize(
    ("name", "says"),
    [("", "an empty name"), ("  ", "an empty name"), ("var/trades.txt", "end in .csv or .parquet")],
)
def test_a_trade_file_the_bot_cannot_write_is_refused_as_the_config_loads(
    name: str, says: str
) -> None:
    """An empty name was the current folder, and a .txt file failed only as the bot started."""
    with pytest.raises(ConfigError, match=rf"engine\.trades_file: .*{says}"):
        parse_config({"engine": {"trades_file": name}})


def test_relative_paths_are_taken_from_the_files_folder_wherever_a_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`quoter kill --config /desk/desk.toml` from another folder latched its kill in a var/
    of its own there, which the bot, started in /desk, never read; the same for the ledger,
    the trail and the trades."""
    desk, elsewhere = tmp_path / "desk", tmp_path / "elsewhere"
    desk.mkdir()
    elsewhere.mkdir()
    risk = (ROOT / "config/compose/quoter.toml").read_text(encoding="utf-8").split("[risk]")[1]
    (desk / "desk.toml").write_text(
        '[engine]\naudit_dir = "state/audit"\n[engine.kill]\nlatch_path = "/abs/latch.json"\n'
        f"[risk]{risk}",
        encoding="utf-8",
    )
    monkeypatch.chdir(elsewhere)
    for config in (
        load_config(Path("../desk/desk.toml")),
        load_config_for(Path("../desk/desk.toml"), ())[0],
    ):
        folder = Path("../desk").absolute()  # said in full wherever it is shown
        assert config.engine.audit_dir == folder / "state/audit"  # given
        assert config.engine.audit_key_path == folder / "state/audit-key"
        assert config.engine.kill.latch_path == Path("/abs/latch.json")  # absolute: as given
        assert config.venue.usage_plan.ledger_path == folder / "var/quota-ledger.json"  # default
        assert config.engine.deadman.heartbeat_path == folder / "var/heartbeat.json"
        assert config.engine.trades_file == folder / "var/trades.parquet"
        assert config.admin.token_file == folder / "var/admin-token"
    # The demo (no file) keeps its state under var/demo of the folder it runs in.
    assert load_config(None).engine.audit_dir == Path("var/demo/audit")
