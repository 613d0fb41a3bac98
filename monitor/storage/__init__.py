"""Storage: the schema, the database handle, crawl recording and the report's queries.

The only package (besides ``alembic/env.py``) that imports SQLAlchemy.

* ``db.Database``           engine, sessions, migrations (``upgrade``/``check_current``), runs
* ``recorder.CrawlRecorder`` one site's crawl, batched and locked
* ``batches``               what one batch writes (listings, observations, matches, contacts ...)
* ``dealers``               clusters of contacts and listings, with the missing-digit rule
* ``fingerprint``           SimHash for re-post linking
* ``stats``                 the monthly report's queries
* ``takedowns``, ``review`` takedown requests and analysts' decisions
* ``yields``                each search query's requests and finds per site and month
"""

from __future__ import annotations

from monitor.storage.db import Database, migrations_dir
from monitor.storage.recorder import CrawlRecorder
from monitor.storage.yields import YieldRecord, new_listing_ids, record_yields, site_yields

__all__ = ["CrawlRecorder", "Database", "YieldRecord", "migrations_dir", "new_listing_ids", "record_yields",
           "site_yields"]
