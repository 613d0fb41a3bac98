"""Every migration up and down on SQLite and PostgreSQL; the models match the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect

from monitor.storage import Database, migrations_dir
from monitor.storage.models import Base
from storage_db import database_urls


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path):
    yield from database_urls(request, tmp_path)


def revisions() -> list[str]:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return [script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_folder_is_found() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert revisions()[0] == "0001"


def test_every_migration_up_and_down(url: str) -> None:
    db = Database(url)
    steps = revisions()
    for revision in steps:
        db.upgrade(revision)
        assert db.current_revision() == revision
    assert tables(db) >= set(Base.metadata.tables)
    db.check_current()
    for index in range(len(steps) - 1, -1, -1):
        target = steps[index - 1] if index else "base"
        db.downgrade(target)
        assert db.current_revision() == (None if target == "base" else target)
    assert tables(db) == set()
    db.upgrade()
    assert db.status()["up_to_date"]
    db.dispose()


def test_models_match_the_migrations(url: str) -> None:
    db = Database(url)
    db.upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
    db.dispose()


def test_foreign_tables_are_left_alone(tmp_path: Path) -> None:
    """APScheduler keeps its job table in the same database; autogenerate must not drop it."""
    db = Database(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    db.upgrade()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY)")
    import alembic.command

    config = db._alembic_config()
    config.set_main_option("script_location", str(migrations_dir()))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        alembic.command.check(config)  # raises if autogenerate would emit any operation
    db.downgrade("base")
    assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
