"""Storage: the schema, the database handle, crawl recording and the report's queries.

The only package (besides ``alembic/env.py``) that imports SQLAlchemy.
"""

from __future__ import annotations

from monitor.storage.db import Database, migrations_dir
from monitor.storage.recorder import CrawlRecorder

__all__ = ["CrawlRecorder", "Database", "migrations_dir"]
