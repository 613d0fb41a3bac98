"""The monitor's exceptions, in one place.

Our exception hierarchy:

* MonitorError
  + ConfigError          bad wtm.toml, environment variable or CLI value
  + KeywordFileError     a lexicon file in keywords/ that does not validate
  + SiteFileError        a site definition in spiders/sites/ that does not validate
  + StorageError
    - SchemaOutdatedError   the database is behind the code's migrations
      . SchemaNewerError    ... or ahead: at a revision this code does not know (a newer wtm's)
    - CrawlLockedError      another crawl of the same site holds the lock
    - DatabaseLockedError   another process holds the (SQLite) database locked
  + CrawlError           a crawl could not start or run at all
    - NodeUnreachable       a Scrapyd node did not answer (monitor.nodes)
  + InputFileError       a user-supplied file (JSONL, XLSX) with bad rows

Normal outcomes ("no match", "listing removed") are return values, never exceptions.
The CLI maps each branch to its own exit code (see monitor.cli.EXIT_CODES).
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    pass


class KeywordFileError(MonitorError):
    pass


class SiteFileError(MonitorError):
    pass


class StorageError(MonitorError):
    pass


class SchemaOutdatedError(StorageError):
    pass


class SchemaNewerError(SchemaOutdatedError):
    pass


class CrawlLockedError(StorageError):
    pass


class DatabaseLockedError(StorageError):
    pass


class CrawlError(MonitorError):
    pass


class NodeUnreachable(CrawlError):
    """A Scrapyd node did not answer (refused, timed out, not Scrapyd): its sites go to another
    node; with none left, the crawl cannot run (exit 3, as any CrawlError)."""


class InputFileError(MonitorError):
    pass
