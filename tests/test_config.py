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


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("download_delay", float("nan"), "finite"),
        ("download_delay", float("inf"), "finite"),
        ("download_delay", 3600.5, "at most 3600"),
        ("download_timeout", 0, "greater than 0"),
        ("max_pages_per_site", 0, "at least 1"),
        ("max_pages_per_site", 2.7, "whole number"),
        ("concurrency_per_site", 65, "at most 64"),
        ("retry_times", "2.7", "whole number"),
        ("retry_times", True, "expected a number"),
    ],
)
def test_numbers_are_finite_whole_and_in_range(name: str, value: object, error: str) -> None:
    with pytest.raises(ConfigError, match=f"command line: {name}: .*{error}"):
        load_config(overrides={name: value}, environ={})


def test_ranges_live_on_the_settings_and_edges_pass() -> None:
    from monitor.config import SETTINGS

    ranged = {s.name: (s.low, s.high, s.low_open) for s in SETTINGS if s.low is not None or s.high is not None}
    assert ranged["download_timeout"] == (0, 3600, True)
    assert ranged["concurrency_per_site"] == (1, 64, False)
    config = load_config(overrides={"download_delay": 0, "retry_times": "20", "max_pages_per_site": 3.0}, environ={})
    assert (config.download_delay, config.retry_times, config.max_pages_per_site) == (0.0, 20, 3)
    assert isinstance(config.max_pages_per_site, int)


@pytest.mark.parametrize("schedule, error", [("99 99 99 99 99", "not a valid cron"), ("0 2 31 2 *", "never fires")])
def test_schedule_is_parsed_as_the_scheduler_parses_it(schedule: str, error: str) -> None:
    with pytest.raises(ConfigError, match=f"environment: schedule: .*{error}"):
        load_config(environ={"WTM_SCHEDULE": schedule})


def test_scheduler_trigger_is_the_validated_one() -> None:
    from apscheduler.triggers.cron import CronTrigger

    from monitor.config import cron_trigger

    config = load_config(environ={"WTM_SCHEDULE": "0 0 29 2 *"})
    assert isinstance(cron_trigger(config.schedule, config.tz), CronTrigger)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://u:s3cret@h/db?password=s3cret2", "postgresql+psycopg://u:***@h/db?password=***"),
        ("postgresql+psycopg://u@h/db?sslpassword=s3cret&sslmode=require",
         "postgresql+psycopg://u@h/db?sslmode=require&sslpassword=***"),
        ("postgresql://u:s3cret@h/db?api_key=s3cret&auth_token=s3cret", "postgresql://u:***@h/db?api_key=***&auth_token=***"),
        ("sqlite:////tmp/x.sqlite3?password=s3cret", "sqlite:////tmp/x.sqlite3?password=***"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
        ("postgresql://u:s3cret@h:port/db?password=s3cret", "postgresql://u:***@h:port/db?password=***"),  # unparsable
    ],
)
def test_mask_url_hides_passwords_in_every_form(url: str, shown: str) -> None:
    from monitor.config import mask_url

    assert mask_url(url) == shown


def test_redact_masks_a_url_and_its_secrets_inside_a_message() -> None:
    from monitor.config import redact

    url = "postgresql+psycopg://u:s3cret@h/db?password=s3cret2"
    text = redact(f"cannot connect to {url}: password s3cret2 rejected for 'u'", url)
    assert "s3cret" not in text and "u:***@h/db" in text
