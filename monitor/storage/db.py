"""The database handle: engine, sessions, schema version checks and run bookkeeping.

The same code serves SQLite (the laptop default, with WAL and foreign keys switched on)
and PostgreSQL through psycopg 3; nothing here is dialect-specific SQL.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event, select, true, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

import monitor
from monitor.config import SETTINGS, mask_url, redact
from monitor.exceptions import DatabaseLockedError, SchemaNewerError, SchemaOutdatedError, StorageError
from monitor.storage.models import CrawlRun, Listing, Site
from monitor.storage.timeutil import month_of, naive

log = logging.getLogger(__name__)

# Seconds a SQLite connection waits for another process's write lock before "database is locked"
# (the setting's default, for callers without a Config).
DEFAULT_BUSY_TIMEOUT: float = next(s.default for s in SETTINGS if s.name == "db_busy_timeout")


def migrations_dir() -> Path:
    """The Alembic folder: inside the installed package, else the checkout's ``alembic/``."""
    package = Path(monitor.__file__).resolve().parent
    installed = package / "migrations"
    if (installed / "env.py").is_file():
        return installed
    return package.parent / "alembic"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


class Database:
    """One database, given by a SQLAlchemy URL; ``evidence_dir`` holds saved pages.

    ``busy_timeout`` is how long a SQLite connection waits for another process's lock
    before giving up with ``DatabaseLockedError``. Every error names the database with its
    secrets masked (``monitor.config.mask_url``).
    """

    def __init__(
        self,
        url: str,
        evidence_dir: str | Path | None = None,
        echo: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise StorageError(f"not a database URL: {mask_url(url)!r}") from None
        self.url = url
        self.busy_timeout = busy_timeout
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        self.sqlite_file: Path | None = None
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": busy_timeout}
            if parsed.database and parsed.database != ":memory:":
                self.sqlite_file = Path(parsed.database).expanduser()
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise StorageError(f"cannot open database {mask_url(url)}: {redact(str(exc), url)}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if evidence_dir is not None:
            self.evidence_dir: Path | None = Path(evidence_dir)
        elif self.sqlite_file is not None:
            self.evidence_dir = self.sqlite_file.resolve().parent / "evidence"
        else:
            self.evidence_dir = None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._checked = False
        self._script_directory: Any = None

    @classmethod
    def from_config(cls, config: Any) -> Database:
        """The configured database, keeping evidence in the data folder's ``evidence/``."""
        return cls(config.db_url, evidence_dir=config.data_path / "evidence", busy_timeout=config.db_busy_timeout)

    def __repr__(self) -> str:
        return f"Database({mask_url(self.url)!r})"

    def error(self, doing: str, exc: OperationalError | ProgrammingError) -> StorageError:
        """The StorageError for a driver error while ``doing`` something: DatabaseLockedError
        naming the file when another process holds it locked; secrets never shown."""
        message = redact(str(exc.orig), self.url)
        if "database is locked" in message or "database table is locked" in message:
            where = str(self.sqlite_file) if self.sqlite_file is not None else repr(self)
            return DatabaseLockedError(
                f"{where}: database is locked by another process (gave up after {self.busy_timeout:g} s); "
                "try again when it has finished, or raise db_busy_timeout"
            )
        return StorageError(f"cannot {doing} {self!r}: {message}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A Session that commits when the block ends normally and rolls back otherwise."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise self.error("write to", exc) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------

    def _alembic_config(self, connection: Any = None) -> Any:
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            logging.getLogger("alembic").setLevel(logging.WARNING)
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(migrations_dir()))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["connection"] = connection
        return cfg

    def _scripts(self) -> Any:
        if self._script_directory is None:
            config = self._alembic_config()
            from alembic.script import ScriptDirectory

            self._script_directory = ScriptDirectory.from_config(config)
        return self._script_directory

    def head_revision(self) -> str | None:
        return self._scripts().get_current_head()

    def current_revision(self) -> str | None:
        self._alembic_config()
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except OperationalError as exc:
            raise self.error("read the schema revision of", exc) from None

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``; creates the schema in an empty database."""
        self._migrate("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        self._migrate("downgrade", revision)

    def _migrate(self, direction: str, revision: str) -> None:
        from alembic import command
        from alembic.util.exc import CommandError

        self._refuse_unknown(self.current_revision(), self.head_revision())
        config = self._alembic_config()
        try:
            with self.engine.begin() as conn:
                config.attributes["connection"] = conn
                getattr(command, direction)(config, revision)
        except CommandError as exc:
            raise StorageError(f"cannot {direction} {self!r} to {revision!r}: {redact(str(exc), self.url)}") from None
        except OperationalError as exc:
            raise self.error(direction, exc) from None
        self._checked = False

    def status(self) -> dict[str, Any]:
        """Current and head revisions and the revisions still to apply."""
        script = self._scripts()
        current = self.current_revision()
        head = script.get_current_head()
        self._refuse_unknown(current, head)
        pending = []
        if current != head:
            for rev in script.iterate_revisions(head, current):
                pending.append(f"{rev.revision} {rev.doc or ''}".strip())
        return {"current": current, "head": head, "pending": list(reversed(pending)), "up_to_date": current == head}

    def check_current(self, again: bool = False) -> None:
        """Refuse a database that is behind (or ahead of) this code's migrations. Checked once per
        instance; ``again`` reads the revision anew (an instance kept for the process's life,
        which another process may have migrated since)."""
        if self._checked and not again:
            return
        current = self.current_revision()
        head = self.head_revision()
        if current != head:
            self._refuse_unknown(current, head)
            where = f"at revision {current}" if current else "empty (no schema)"
            raise SchemaOutdatedError(
                f"database {self!r} is {where} but this version of wtm needs {head}: run `wtm db upgrade`"
            )
        self._checked = True

    def _refuse_unknown(self, current: str | None, head: str | None) -> None:
        """SchemaNewerError when the database is at a revision this code has no migration for."""
        if current is None or current == head:
            return
        known = {script.revision for script in self._scripts().walk_revisions()}
        if current not in known:
            raise SchemaNewerError(
                f"database {self!r} is at revision {current}, newer than this version of wtm knows "
                f"(its latest is {head}); upgrade wtm, or point it at another database"
            )

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, kind: str = "monthly", started_at: datetime | None = None, month: str | None = None) -> int:
        started = naive(started_at or datetime.now())
        with self.session() as s:
            run = CrawlRun(kind=kind, started_at=started, month=month or month_of(started_at or started))
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, finished_at: datetime | None = None) -> None:
        with self.session() as s:
            s.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(finished_at=naive(finished_at or datetime.now())))

    def listings_to_revisit(self, site: str, flagged_only: bool = False) -> list[tuple[str, str]]:
        """(external_id, url) of the site's listings not yet known to be removed."""
        query = (
            select(Listing.external_id, Listing.url)
            .join(Site, Site.id == Listing.site_id)
            .where(Site.name == site, Listing.removed_at.is_(None))
            .order_by(Listing.id)
        )
        if flagged_only:
            query = query.where(Listing.flagged == true())
        try:
            with self.engine.connect() as conn:
                return [(row[0], row[1]) for row in conn.execute(query)]
        except (OperationalError, ProgrammingError) as exc:
            raise self.error(f"read listings of {site!r} from", exc) from None
