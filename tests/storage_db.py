"""Databases for the storage tests: a SQLite file in tmp_path, and PostgreSQL in a
throw-away schema when WTM_TEST_POSTGRES_URL names a server (the `test` database is shared)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from monitor.items import ListingItem
from monitor.storage import Database

POSTGRES_URL = os.environ.get("WTM_TEST_POSTGRES_URL", "")
NO_POSTGRES = "WTM_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against (.ci/run sets it)"


def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"wtm_test_{uuid.uuid4().hex[:12]}"
    url = make_url(POSTGRES_URL)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wtm.sqlite3'}"
    else:
        yield from postgres_schema_url()


def open_db(url: str, tmp_path: Path) -> Database:
    db = Database(url, evidence_dir=tmp_path / "evidence")
    db.upgrade()
    return db


def item(external_id: str, site: str = "huaxia", **fields) -> ListingItem:
    fields.setdefault("url", f"http://127.0.0.1/{site}/item/{external_id}.html")
    fields.setdefault("title", f"listing {external_id}")
    return ListingItem(site=site, external_id=external_id, **fields)


def ivory(term: str = "象牙", field: str = "title", start: int = 0) -> dict:
    return {"term": term, "species": "ivory", "kind": "term", "field": field, "start": start,
            "end": start + len(term), "text": term, "trick": ""}


def at(month: str, day: int = 28) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), day, 12, 0)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path):
    for url in database_urls(request, tmp_path):
        database = open_db(url, tmp_path)
        yield database
        database.dispose()
