"""Every bad input ends in one clean line that names it, and the documented exit code.

Through the real CLI: ``monitor.cli.main`` in process (its SystemExit is the exit code), or the
installed ``wtm`` script in a subprocess where another process must hold a lock or where the
whole stderr, logging included, must be free of tracebacks and secrets. Databases are real
SQLite files under tmp_path.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from monitor.cli import EXIT_BAD_INPUT, EXIT_DB_OUTDATED, EXIT_ERROR, EXIT_LOCKED, EXIT_OK, main
from monitor.storage import Database

WTM = str(Path(sys.executable).with_name("wtm"))
SECRETS = ("s3cret", "s3cret2", "t0ken", "k3y")
PG_URL = "postgresql+psycopg://u:s3cret@h/db?password=s3cret2"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``wtm ARGV`` in process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    code = info.value.code
    return (EXIT_OK if code is None else code), out, err


def run_process(*argv: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str, str, float]:
    """``wtm ARGV`` as its own process: (exit code, stdout, stderr, seconds taken)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WTM_") or k == "WTM_TEST_POSTGRES_URL"}
    environ.update(env or {})
    started = time.monotonic()
    done = subprocess.run([WTM, *argv], capture_output=True, text=True, env=environ, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def assert_clean(code: int, expected: int, out: str, err: str, *names: str) -> None:
    """Exit ``expected``, no traceback, and every one of ``names`` in the output."""
    text = out + err
    assert code == expected, text
    assert "Traceback" not in text, text
    for name in names:
        assert name in text, (name, text)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    """A data folder whose SQLite database is at this code's latest revision."""
    data = tmp_path / "data"
    db = Database(f"sqlite:///{data / 'wtm.sqlite3'}")
    db.upgrade()
    db.dispose()
    return data


# -- 1. settings out of range ---------------------------------------------------------------

BAD_NUMBERS = [
    ("download_delay", "nan"), ("download_delay", "inf"), ("download_delay", "-1"), ("download_delay", "3601"),
    ("download_timeout", "0"), ("download_timeout", "inf"), ("download_timeout", "nan"), ("download_timeout", "-inf"),
    ("max_pages_per_site", "0"), ("max_pages_per_site", "2.7"), ("max_pages_per_site", "inf"),
    ("concurrency_per_site", "0"), ("concurrency_per_site", "65"), ("concurrency_per_site", "2.7"),
    ("retry_times", "-1"), ("retry_times", "21"), ("retry_times", "2.7"), ("retry_times", "nan"),
    ("db_busy_timeout", "inf"), ("db_busy_timeout", "-1"),
]


@pytest.mark.parametrize("name, value", BAD_NUMBERS)
def test_number_out_of_range_in_the_environment(capsys, name: str, value: str, monkeypatch) -> None:
    monkeypatch.setenv(f"WTM_{name.upper()}", value)
    code, out, err = run(capsys, "config", "show")
    assert_clean(code, EXIT_BAD_INPUT, out, err, "ConfigError", "environment", name, value)


@pytest.mark.parametrize("name, value", BAD_NUMBERS)
def test_number_out_of_range_in_the_file(capsys, tmp_path: Path, name: str, value: str) -> None:
    config = tmp_path / "wtm.toml"
    config.write_text(f"{name} = {value}\n", encoding="utf-8")  # TOML numbers: nan, inf, 2.7 as such
    code, out, err = run(capsys, "--config", str(config), "config", "show")
    assert_clean(code, EXIT_BAD_INPUT, out, err, "ConfigError", str(config), name)


def test_whole_numbers_are_not_truncated_and_edges_are_accepted(capsys, tmp_path: Path) -> None:
    config = tmp_path / "wtm.toml"
    config.write_text(
        "download_delay = 0\ndownload_timeout = 3600\nmax_pages_per_site = 1\nconcurrency_per_site = 64\n"
        "retry_times = 0\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--config", str(config), "config", "show", "--json")
    assert_clean(code, EXIT_OK, out, err, '"concurrency_per_site": 64', '"retry_times": 0')


def test_bad_database_url_flag_names_the_flag_without_its_password(capsys) -> None:
    code, out, err = run(capsys, "--database-url", "postgresql+psycopg://u:s3cret@h:port/db?password=s3cret2",
                         "config", "show")
    assert_clean(code, EXIT_BAD_INPUT, out, err, "ConfigError", "command line", "database_url")
    assert_no_secret(out + err)


# -- 2. schedule --------------------------------------------------------------------------

@pytest.mark.parametrize("schedule, why", [
    ("99 99 99 99 99", "not a valid cron expression"),
    ("0 2 31 2 *", "never fires"),
    ("0 2 30 2 *", "never fires"),
    ("0 2 1", "expected 5 cron fields"),
    ("0 2 1 * 8", "not a valid cron expression"),
])
def test_bad_schedule_is_refused_at_load(capsys, tmp_path: Path, monkeypatch, schedule: str, why: str) -> None:
    config = tmp_path / "schedule.toml"  # not ./wtm.toml, which the second run would read too
    config.write_text(f'schedule = "{schedule}"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "config", "show")
    assert_clean(code, EXIT_BAD_INPUT, out, err, str(config), "schedule", schedule, why)
    monkeypatch.setenv("WTM_SCHEDULE", schedule)
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), "schedule")
    assert_clean(code, EXIT_BAD_INPUT, out, err, "environment", "schedule", schedule, why)
    assert not (tmp_path / "data").exists()  # refused before the scheduler touched anything


# -- 3. passwords masked --------------------------------------------------------------------

MASKED_URLS = [
    PG_URL,
    "postgresql+psycopg://u:s3cret@h:5432/db?sslpassword=s3cret2&sslmode=require",
    "postgresql+psycopg://u@h/db?access_token=t0ken&api_key=k3y&client_secret=s3cret",
    "postgresql+psycopg://u:s3cret%40x@h/db",
]


@pytest.mark.parametrize("url", MASKED_URLS)
def test_config_show_masks_every_secret(capsys, url: str, monkeypatch, tmp_path: Path) -> None:
    code, out, err = run(capsys, "--database-url", url, "config", "show")
    assert_clean(code, EXIT_OK, out, err, "***", "command line")
    assert_no_secret(out + err)
    code, out, err = run(capsys, "--database-url", url, "config", "show", "--json")
    assert_clean(code, EXIT_OK, out, err, "***")
    assert_no_secret(out + err)
    monkeypatch.setenv("WTM_DATABASE_URL", url)
    code, out, err = run(capsys, "config", "show")
    assert_clean(code, EXIT_OK, out, err, "***", "environment")
    assert_no_secret(out + err)


def test_db_status_and_its_errors_mask_the_password(capsys, tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection error is shown, the password is not.
    url = "postgresql+psycopg://u:s3cret@127.0.0.1:1/db?password=s3cret2&connect_timeout=2"
    code, out, err = run(capsys, "--database-url", url, "db", "status")
    assert_clean(code, EXIT_ERROR, out, err, "StorageError", "postgresql+psycopg://u:***@127.0.0.1:1/db")
    assert_no_secret(out + err)
    sqlite_url = f"sqlite:///{tmp_path / 'x.sqlite3'}?password=s3cret2"
    code, out, err = run(capsys, "--database-url", sqlite_url, "db", "upgrade")
    assert_clean(code, EXIT_OK, out, err, "password=***")
    code, out, err = run(capsys, "--database-url", sqlite_url, "db", "status")
    assert_clean(code, EXIT_OK, out, err, f"sqlite:///{tmp_path / 'x.sqlite3'}", "password=***", "up to date")
    assert_no_secret(out + err)


def test_logs_and_errors_of_a_process_never_show_the_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}?password=s3cret2&token=t0ken"
    code, out, err, _ = run_process("-v", "--database-url", url, "db", "upgrade")
    assert_clean(code, EXIT_OK, out, err, "password=***")
    assert_no_secret(out + err)
    code, out, err, _ = run_process("-v", "--database-url", url, "report", "--month", "2025-01")
    assert "Traceback" not in err
    assert_no_secret(out + err)
    for log in (Path.cwd() / "wtm-data" / "logs").glob("*.log"):
        assert_no_secret(log.read_text(encoding="utf-8"))


# -- 4. months, schema ahead of the code, a locked database ------------------------------------

MONTH_COMMANDS = [
    ["report"],
    ["run-monthly"],
    ["takedown", "export", "--site", "huaxiacang"],
    ["takedown", "sent", "--site", "huaxiacang"],
    ["review", "export"],
]


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1989-12", "3000-01", "2024-13", "2024-00", "24-01"])
@pytest.mark.parametrize("command", MONTH_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_month_out_of_range_is_bad_input_on_every_command(capsys, upgraded: Path, command: list[str], month: str) -> None:
    code, out, err = run(capsys, "--data-dir", str(upgraded), *command, "--month", month)
    assert_clean(code, EXIT_BAD_INPUT, out, err, "--month", month)


def _make_newer(data: Path, revision: str = "9f3a") -> None:
    with closing(sqlite3.connect(data / "wtm.sqlite3")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["report", "--month", "2025-01"],
                                     ["takedown", "export", "--site", "x", "--month", "2025-01"]],
                         ids=lambda c: " ".join(c[:2]))
def test_database_newer_than_the_code_names_both_revisions(capsys, upgraded: Path, command: list[str]) -> None:
    head = Database(f"sqlite:///{upgraded / 'wtm.sqlite3'}").head_revision()
    _make_newer(upgraded)
    code, out, err = run(capsys, "--data-dir", str(upgraded), *command)
    assert_clean(code, EXIT_DB_OUTDATED, out, err, "SchemaNewerError", "9f3a", head, "newer than this version")


def test_database_behind_still_exits_4_with_upgrade_advice(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "data"), "db", "status")
    assert_clean(code, EXIT_DB_OUTDATED, out, err, "wtm db upgrade")


class _ExclusiveLock:
    """Another connection holding BEGIN EXCLUSIVE on a SQLite file (wtm runs as another process)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> "_ExclusiveLock":
        self.conn.execute("BEGIN EXCLUSIVE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.mark.parametrize("command", [["db", "downgrade", "0001", "--yes"], ["db", "upgrade"]],
                         ids=lambda c: " ".join(c[:2]))
def test_locked_database_is_named_and_exits_5_without_waiting_30s(upgraded: Path, command: list[str]) -> None:
    database = upgraded / "wtm.sqlite3"
    if command[1] == "upgrade":  # an upgrade only writes when something is pending
        Database(f"sqlite:///{database}").downgrade("0001")
    with _ExclusiveLock(database):
        code, out, err, seconds = run_process("--data-dir", str(upgraded), *command, env={"WTM_DB_BUSY_TIMEOUT": "1"})
    assert_clean(code, EXIT_LOCKED, out, err, "DatabaseLockedError", str(database), "database is locked")
    assert seconds < 10, seconds


def test_locked_database_read_waits_the_default_timeout_then_names_the_file(upgraded: Path) -> None:
    """In rollback-journal mode an exclusive lock blocks readers too: even `db status` waits,
    for the default 10 s, not SQLite's driver default of 5 or the old 30."""
    database = upgraded / "wtm.sqlite3"
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    with _ExclusiveLock(database):
        code, out, err, seconds = run_process("--data-dir", str(upgraded), "db", "status")
    assert_clean(code, EXIT_LOCKED, out, err, str(database), "database is locked", "10 s")
    assert 9 < seconds < 25, seconds


# -- 5. a broken site file named with crawl --site -----------------------------------------

@pytest.mark.parametrize("text, names", [
    ("name: mysite\nplatform: [unclosed\n", "mysite.yaml"),
    ("name: othername\n", "mysite.yaml"),
    ("- just\n- a list\n", "mysite.yaml"),
])
def test_broken_site_file_of_a_named_site_is_bad_input(capsys, tmp_path: Path, monkeypatch, text: str, names: str) -> None:
    sites_dir = tmp_path / "sites"
    sites_dir.mkdir()
    (sites_dir / "mysite.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("WTM_SITES_DIR", str(sites_dir))
    data = tmp_path / "data"
    code, out, err = run(capsys, "--data-dir", str(data), "crawl", "--site", "mysite", "--keyword", "象牙")
    assert_clean(code, EXIT_BAD_INPUT, out, err, "SiteFileError", names)
    assert not (data / "logs").exists()  # refused before any crawl started
