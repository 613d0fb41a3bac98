"""Recording one site's crawl: batched, transactional writes under a per-site lock.

Items are buffered and written ``batch_size`` at a time, each batch in one transaction
with Core ``executemany`` statements, so a crash loses at most the unflushed batch and
never leaves half of one. A lock row per site refuses a second simultaneous crawl of the
same site. The lock's owner names its process (host, pid and the process's start time), so
a lock left by a process that died on this machine is taken over at once; one held from
another machine only once its heartbeat, refreshed as batches land, is LOCK_STALE_AFTER old.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from monitor.crawlhealth import SiteHealth
from monitor.exceptions import CrawlLockedError, StorageError
from monitor.items import ListingItem
from monitor.storage.batches import Batch, BatchWriter, PendingListing
from monitor.storage.db import Database
from monitor.storage.models import CrawlRun, Listing, Site, SiteCrawl, SiteLock
from monitor.storage.timeutil import month_of, naive

log = logging.getLogger(__name__)

LOCK_STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = timedelta(seconds=60)
RETRIES = 4
MAX_EXTERNAL_ID = 200


def _now() -> datetime:
    return datetime.now()


# -- who holds a lock -------------------------------------------------------------------


def _host() -> str:
    return socket.gethostname()[:100].replace(":", "_")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()[:8]
    except OSError:
        return ""


def _pid_namespace() -> str:
    """Which pid numbering this process sees (containers on one host may share a host name)."""
    try:
        return "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
    except OSError:
        return ""


def _start_of(pid: int) -> str | None:
    """When process ``pid`` started, as ``ticks@boot@pidns`` (field 22 of /proc/<pid>/stat, in
    clock ticks since this boot); None when it is gone (or a zombie), "" where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else ""
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    fields = stat[stat.rfind(b")") + 2:].split()
    if len(fields) <= 19:
        return ""
    if fields[0] in (b"Z", b"X"):  # exited, not yet reaped by its parent
        return None
    return f"{int(fields[19])}@{_boot_id()}@{_pid_namespace()}"


def process_owner(pid: int | None = None, tag: str | None = None) -> str:
    """``host:pid:start:tag`` naming process ``pid`` (default: this one) as a lock holder;
    ``tag`` tells apart two holders in one process (default: random)."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}:{pid}:{_start_of(pid) or ''}:{tag or uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool | None:
    """Whether the holder named by ``owner`` (see ``process_owner``) still runs: True or False
    for a process on this machine, None for another machine (or container) or an owner that
    names no process (then only the heartbeat tells)."""
    parts = str(owner).split(":")
    if len(parts) < 4 or not parts[1].isdigit() or parts[0] != _host():
        return None
    pid, start = int(parts[1]), parts[2]
    if pid <= 0:
        return None
    if start:  # the pid may since have been given to another process: compare start times
        _ticks, boot, namespace = (start.split("@") + ["", ""])[:3]
        if namespace != _pid_namespace():
            return None
        if boot != _boot_id():
            return False  # this machine has restarted since
        now = _start_of(pid)
        if now != "":
            return now == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _held(owner: str, heartbeat_at: datetime, now: datetime) -> bool:
    """Whether a lock row still stands: its holder lives (or, on another machine, its heartbeat
    is fresh); a holder that died on this machine leaves a lock that stands no more."""
    return owner_alive(owner) is not False and now - heartbeat_at < LOCK_STALE_AFTER


def _locked_message(site: str, owner: str, acquired_at: datetime, heartbeat_at: datetime) -> str:
    host, _, rest = str(owner).partition(":")
    pid = rest.split(":", 1)[0]
    return (f"site {site!r} is being crawled by process {pid} on {host} since {acquired_at:%Y-%m-%d %H:%M:%S} "
            f"(heartbeat {heartbeat_at:%H:%M:%S}); wait for it to finish")


def check_site_locks(db: Database, sites: Iterable[str]) -> None:
    """Refuse (CrawlLockedError) when a crawl that may still run holds one of ``sites``.

    For a crawl to call before it touches anything (its resume state, its run): the lock
    itself is taken per site by ``CrawlRecorder``, under the same rule.
    """
    names = sorted(set(sites))
    if not names:
        return
    with db.engine.begin() as conn:
        rows = conn.execute(
            select(Site.name, SiteLock.owner, SiteLock.acquired_at, SiteLock.heartbeat_at)
            .join(Site, Site.id == SiteLock.site_id).where(Site.name.in_(names))
        ).all()
    now = _now()
    for row in rows:
        if _held(row.owner, row.heartbeat_at, now):
            raise CrawlLockedError(_locked_message(row.name, row.owner, row.acquired_at, row.heartbeat_at))


def storable_id(external_id: str) -> str:
    """The external id as stored: ids longer than the column keep a prefix and a digest."""
    external_id = str(external_id)
    if len(external_id) <= MAX_EXTERNAL_ID:
        return external_id
    return external_id[:150] + "#" + hashlib.sha256(external_id.encode()).hexdigest()[:32]


def ensure_site(db: Database, name: str) -> int:
    """The site's id, adding the site on first sight (safe against a concurrent first sight)."""
    for _ in range(2):
        with db.engine.begin() as conn:
            site_id = conn.execute(select(Site.id).where(Site.name == name)).scalar()
            if site_id is not None:
                return site_id
        try:
            with db.engine.begin() as conn:
                return conn.execute(insert(Site).values(name=name).returning(Site.id)).scalar_one()
        except IntegrityError:
            continue
    raise StorageError(f"cannot add site {name!r}")


class CrawlRecorder:
    """Stores one site's crawl; see the module docstring. Use as a context manager or call
    ``finish`` (``abort`` on failure) so the lock is released."""

    def __init__(
        self,
        db: Database,
        run_id: int,
        site: str,
        observed_at: datetime | None = None,
        batch_size: int = 500,
        owner: str | None = None,
    ) -> None:
        db.check_current()
        self.db = db
        self.site = site
        self.run_id = run_id
        self.observed_at = naive(observed_at or datetime.now())
        self.month = month_of(observed_at or self.observed_at)
        self.batch_size = max(1, batch_size)
        self.owner = owner or process_owner()
        self._batch = Batch()
        self._closed = False
        self._last_heartbeat = _now()
        self.stats = {"items": 0, "new": 0, "removed": 0, "unread": 0, "batches": 0}
        self.site_id = ensure_site(db, site)
        with db.engine.begin() as conn:
            known_run = conn.execute(select(CrawlRun.id, CrawlRun.month).where(CrawlRun.id == run_id)).first()
        if known_run is None:
            raise StorageError(f"no crawl run {run_id} in {db!r}; call db.start_run() first")
        self.site_crawl_id: int | None = None
        self._acquire_lock()
        try:
            with db.engine.begin() as conn:
                self.site_crawl_id = conn.execute(
                    insert(SiteCrawl)
                    .values(run_id=run_id, site_id=self.site_id, month=known_run.month or self.month,
                            started_at=self.observed_at, status="running", items=0, new_listings=0,
                            removed_listings=0)
                    .returning(SiteCrawl.id)
                ).scalar_one()
                conn.execute(update(SiteLock).where(SiteLock.site_id == self.site_id, SiteLock.owner == self.owner)
                             .values(site_crawl_id=self.site_crawl_id))
        except BaseException:
            self._release_lock()
            raise
        self._writer = BatchWriter(site=site, site_id=self.site_id, site_crawl_id=self.site_crawl_id,
                                   observed_at=self.observed_at, month=self.month, evidence_dir=db.evidence_dir)

    # -- lock ---------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        """Insert the site's lock row; if one exists, take it over only when it no longer stands
        (its holder died on this machine, or its heartbeat is stale).

        The take-over is a compare-and-set on the old owner and heartbeat, so of two crawls
        that find the same dead lock exactly one wins.
        """
        for _ in range(3):
            now = _now()
            try:
                with self.db.engine.begin() as conn:
                    conn.execute(insert(SiteLock).values(site_id=self.site_id, owner=self.owner, site_crawl_id=None,
                                                         acquired_at=now, heartbeat_at=now))
                return
            except IntegrityError:
                pass
            with self.db.engine.begin() as conn:
                held = conn.execute(
                    select(SiteLock.owner, SiteLock.heartbeat_at, SiteLock.acquired_at, SiteLock.site_crawl_id)
                    .where(SiteLock.site_id == self.site_id)
                ).first()
                if held is None:
                    continue  # released meanwhile: try inserting again
                if _held(held.owner, held.heartbeat_at, now):
                    raise CrawlLockedError(_locked_message(self.site, held.owner, held.acquired_at, held.heartbeat_at))
                why = "its process is gone" if owner_alive(held.owner) is False else "its heartbeat is stale"
                taken = conn.execute(
                    update(SiteLock)
                    .where(SiteLock.site_id == self.site_id, SiteLock.owner == held.owner,
                           SiteLock.heartbeat_at == held.heartbeat_at)
                    .values(owner=self.owner, site_crawl_id=None, acquired_at=now, heartbeat_at=now)
                ).rowcount
                if taken == 1 and held.site_crawl_id is not None:  # that crawl will never finish
                    conn.execute(
                        update(SiteCrawl).where(SiteCrawl.id == held.site_crawl_id, SiteCrawl.status == "running")
                        .values(status="failed", finished_at=naive(now),
                                health=SiteHealth.failed(f"abandoned: {why}", fault="").to_json())
                    )
            if taken == 1:
                log.warning("site %s: took over the lock held by %s (%s)", self.site, held.owner, why)
                return
        raise CrawlLockedError(f"site {self.site!r}: another crawl took the lock first")

    def _heartbeat(self, conn: Connection) -> None:
        now = _now()
        held = conn.execute(
            update(SiteLock)
            .where(SiteLock.site_id == self.site_id, SiteLock.owner == self.owner)
            .values(heartbeat_at=now)
        ).rowcount
        if held != 1:
            raise CrawlLockedError(f"site {self.site!r}: this crawl lost its lock (stale and taken over)")
        self._last_heartbeat = now

    def _release_lock(self) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(delete(SiteLock).where(SiteLock.site_id == self.site_id, SiteLock.owner == self.owner))

    def _mark_site_crawl(self, conn: Connection, status: str, health: SiteHealth | None = None) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": naive(_now()) if status != "finished" else self.observed_at}
        if health is not None:
            values["health"] = health.to_json()
        conn.execute(update(SiteCrawl).where(SiteCrawl.id == self.site_crawl_id).values(**values))

    # -- public API ---------------------------------------------------------------------

    def add(
        self,
        item: ListingItem,
        matches: list[dict] | None = None,
        lexicon_version: str = "",
        flagged: bool = False,
        species: list[str] | None = None,
        score: float = 0.0,
        evidence: bytes | None = None,
        offer: dict[str, Any] | None = None,
    ) -> None:
        """Buffer one observed listing; writes happen when the batch is full. A removed one
        is a removal of a known listing, unless ``item.unread`` (gone before its first visit:
        stored from what its results page showed). ``offer`` is what a flag offers: the
        matcher's ``form``, ``quantity`` and ``intent`` (kept only on flagged listings)."""
        self._check_open()
        if item.status == "removed" and not item.unread:
            self.mark_removed(item.external_id, item.removal_kind or "removed")
            return
        external_id = storable_id(item.external_id)
        self._batch.removals.pop(external_id, None)
        self._batch.adds[external_id] = PendingListing(item, matches, (lexicon_version or "")[:64], bool(flagged),
                                                       list(species or []), float(score or 0.0), evidence,
                                                       dict(offer) if offer else None)
        self._maybe_flush()

    def mark_removed(self, external_id: str, kind: str) -> None:
        """A revisit found the listing gone (at ``observed_at``); ``kind`` says how."""
        self._check_open()
        external_id = storable_id(external_id)
        self._batch.adds.pop(external_id, None)
        self._batch.removals[external_id] = kind or "removed"
        self._maybe_flush()

    def flush(self) -> None:
        """Write the buffered batch in one transaction (nothing of it on failure).

        A conflict with a concurrent crawl of another site (both adding the same new
        contact, or merging the same dealers) is retried. If the batch still cannot be
        written it is dropped, so later batches are not blocked by it, and the error raised.
        """
        if not len(self._batch):
            return
        batch = self._batch
        for attempt in range(1, RETRIES + 1):
            try:
                with self.db.engine.begin() as conn:
                    self._heartbeat(conn)
                    new, removed, unread = self._writer.write(conn, batch)
                    conn.execute(
                        update(SiteCrawl)
                        .where(SiteCrawl.id == self.site_crawl_id)
                        .values(items=SiteCrawl.items + len(batch.adds) - unread, new_listings=SiteCrawl.new_listings + new,
                                removed_listings=SiteCrawl.removed_listings + removed)
                    )
                break
            except (IntegrityError, OperationalError) as exc:
                if attempt < RETRIES:
                    log.warning("site %s: batch conflicted with another writer (%s); retrying", self.site,
                                type(exc.orig).__name__)
                    time.sleep(0.1 * attempt)
                    continue
                self._drop(batch, exc)
                raise StorageError(f"site {self.site!r}: could not write a batch of {len(batch)} rows: {exc.orig}") from exc
            except BaseException as exc:
                self._drop(batch, exc)
                raise
        self._batch = Batch()
        self.stats["items"] += len(batch.adds) - unread
        self.stats["new"] += new
        self.stats["unread"] += unread
        self.stats["removed"] += removed
        self.stats["batches"] += 1

    def _drop(self, batch: Batch, exc: BaseException) -> None:
        log.error("site %s: dropped a batch of %d listings after %s", self.site, len(batch), type(exc).__name__)
        self.stats["dropped"] = self.stats.get("dropped", 0) + len(batch)
        if self._batch is batch:
            self._batch = Batch()

    def finish(self, health: SiteHealth | Mapping[str, Any] | None = None) -> None:
        """Flush, store the per-site health figures and release the lock."""
        self._check_open()
        try:
            self.flush()
            with self.db.engine.begin() as conn:
                self._mark_site_crawl(conn, "finished", SiteHealth.from_json(health) if health is not None else None)
                conn.execute(update(Site).where(Site.id == self.site_id, Site.first_crawled_at.is_(None))
                             .values(first_crawled_at=self.observed_at))
        except BaseException:
            self.abort("failed while finishing")
            raise
        self._release_lock()
        self._closed = True

    def abort(self, reason: str = "") -> None:
        """Give up: drop the unflushed batch, mark the site's crawl failed, release the lock."""
        if self._closed:
            return
        self._closed = True
        self._batch = Batch()
        try:
            with self.db.engine.begin() as conn:
                self._mark_site_crawl(conn, "failed", SiteHealth.failed(reason or "aborted", fault=""))
        finally:
            self._release_lock()

    def __enter__(self) -> CrawlRecorder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort(f"{exc_type.__name__}: {exc}")
        elif not self._closed:
            self.finish({})

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"recorder for site {self.site!r} is already finished")

    def heartbeat(self) -> None:
        """Keep the site's lock fresh; adds and flushes do this, call it during long quiet spells
        (a lock without a heartbeat for LOCK_STALE_AFTER can be taken over)."""
        self._check_open()
        with self.db.engine.begin() as conn:
            self._heartbeat(conn)

    def _maybe_flush(self) -> None:
        if len(self._batch) >= self.batch_size:
            self.flush()
        elif _now() - self._last_heartbeat > HEARTBEAT_EVERY:
            self.heartbeat()


def take_over_lock(db: Database, site: str, why: str) -> bool:
    """Release ``site``'s lock at once, failing the crawl record it guarded, when its holder is
    known to have stopped though its heartbeat is fresh: Scrapyd says the job that held it is
    no longer running, or its node is gone (``monitor.nodes``). True when a lock was released."""
    with db.engine.begin() as conn:
        held = conn.execute(
            select(SiteLock.site_id, SiteLock.owner, SiteLock.site_crawl_id)
            .join(Site, Site.id == SiteLock.site_id).where(Site.name == site)
        ).first()
        if held is None:
            return False
        conn.execute(delete(SiteLock).where(SiteLock.site_id == held.site_id, SiteLock.owner == held.owner))
        if held.site_crawl_id is not None:
            conn.execute(
                update(SiteCrawl).where(SiteCrawl.id == held.site_crawl_id, SiteCrawl.status == "running")
                .values(status="failed", finished_at=naive(_now()),
                        health=SiteHealth.failed(f"abandoned: {why}", fault="").to_json())
            )
    log.warning("site %s: released the lock held by %s (%s)", site, held.owner, why)
    return True


def site_outcome(db: Database, run_id: int, site: str) -> tuple[str, SiteHealth | None] | None:
    """The status and health of ``site``'s newest crawl record in run ``run_id``, None if none."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(SiteCrawl.status, SiteCrawl.health).join(Site, Site.id == SiteCrawl.site_id)
            .where(SiteCrawl.run_id == run_id, Site.name == site).order_by(SiteCrawl.id.desc()).limit(1)
        ).first()
    if row is None:
        return None
    return row.status, (SiteHealth.from_json(row.health) if row.health is not None else None)


def listings_known_before(db: Database, site: str, observed_at: datetime) -> list[tuple[str, str]]:
    """(external_id, url) of the site's listings not known to be removed and first seen before
    ``observed_at``: what a crawl observing at ``observed_at`` revisits, even when it restarts a
    crawl of the same run that stored some listings before its node died."""
    query = (
        select(Listing.external_id, Listing.url).join(Site, Site.id == Listing.site_id)
        .where(Site.name == site, Listing.removed_at.is_(None), Listing.first_seen < naive(observed_at))
        .order_by(Listing.id)
    )
    with db.engine.connect() as conn:
        return [(row[0], row[1]) for row in conn.execute(query)]
