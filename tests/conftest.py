"""Shared fixtures: every test talks only to 127.0.0.1 and writes only under tmp paths."""

from __future__ import annotations

import os

import pytest

# The storage tests' `db` fixture: a SQLite file and, where configured, PostgreSQL.
pytest_plugins = ["storage_db"]

# Never let a test reach a proxy or the outside world.
for _var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No test reads the developer's wtm.toml or WTM_* settings."""
    for name in list(os.environ):
        if name.startswith("WTM_") and name != "WTM_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
