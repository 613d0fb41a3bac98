from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.exceptions import ConfigError


def test_defaults_put_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = load_config(overrides={"data_dir": str(tmp_path / "d")})
    assert config.db_url == f"sqlite:///{tmp_path / 'd' / 'wtm.sqlite3'}"
    assert config.sources["data_dir"] == "command line"


def test_file_then_env_then_cli(tmp_path: Path) -> None:
    file = tmp_path / "wtm.toml"
    file.write_text('download_delay = 2.5\ncontact = "a@b.org"\nsites = ["x", "y"]\n', encoding="utf-8")
    config = load_config(file, environ={"WTM_DOWNLOAD_DELAY": "0.5"})
    assert config.download_delay == 0.5 and config.sources["download_delay"] == "environment"
    assert config.sites == ["x", "y"]
    assert "a@b.org" in config.user_agent
    assert load_config(file, overrides={"download_delay": 3}, environ={}).download_delay == 3.0


@pytest.mark.parametrize(
    "text, key",
    [
        ("download_delay = 'fast'", "download_delay"),
        ("timezone = 'Mars/Olympus'", "timezone"),
        ("schedule = '0 2 1'", "schedule"),
        ("obey_robots = 'perhaps'", "obey_robots"),
        ("no_such_key = 1", "no_such_key"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    file = tmp_path / "wtm.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file, environ={})
    assert str(file) in str(info.value) and key in str(info.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_secrets_are_masked() -> None:
    config = load_config(overrides={"database_url": "postgresql+psycopg://me:hunter2@db/wtm"}, environ={})
    assert "hunter2" not in str(config.masked())
