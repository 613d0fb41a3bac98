"""One OS file lock per site, held for a whole crawl on this machine (``SiteLocks``)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Iterable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from monitor.exceptions import CrawlLockedError

logger = logging.getLogger(__name__)

# Seconds a stopping worker gets to save its state before it is killed (a worker left alone
# ends itself after as long: worker.STOP_GRACE); a crawl that finds its sites locked by the
# worker of a killed crawl waits a little longer for it.
STOP_TIMEOUT = 120.0
ORPHAN_WAIT = STOP_TIMEOUT + 15.0


class SiteLocks:
    """One OS file lock per site (``state/locks/<site>.lock``, flock), held for a whole crawl.

    It refuses a second crawl of a site on this machine before that crawl touches anything, and
    the kernel releases it when its holders die, so a killed crawl blames no dead process. The
    worker inherits the locked descriptors: when a crawl is killed, its worker (stopping, and
    saving its state) holds the lock until it has exited too. A crawl that finds a site locked
    is refused at once (CrawlLockedError, exit 5) while the crawl holding it lives; if only that
    crawl's worker is left, it waits for the worker up to ORPHAN_WAIT seconds. The file names
    who holds it (``monitor.storage.recorder.process_owner``), for that check and for messages.
    The database's lock rows guard against crawls from other machines or data folders.
    """

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self.folder = folder
        self.names = sorted(set(names))
        self._fds: list[int] = []
        self.owner = ""

    @property
    def fds(self) -> tuple[int, ...]:
        return tuple(self._fds)

    def __enter__(self) -> "SiteLocks":
        if fcntl is None:  # no flock (Windows): the database's lock rows alone
            return self
        from monitor.storage.recorder import process_owner

        self.folder.mkdir(parents=True, exist_ok=True)
        self.owner = process_owner(tag="crawl")
        try:
            for name in self.names:
                self._fds.append(self._lock(name))
        except BaseException:
            self.__exit__()
            raise
        return self

    def _lock(self, name: str) -> int:
        from monitor.storage.recorder import owner_alive

        fd = os.open(self.folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        waiting_for: str | None = None
        deadline = time.monotonic() + ORPHAN_WAIT
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    _write_holder(fd, {"crawl": self.owner})
                    return fd
                except BlockingIOError:
                    pass
                holder = _read_holder(fd)
                crawl, worker = str(holder.get("crawl") or ""), str(holder.get("worker") or "")
                if owner_alive(crawl) is not False:
                    raise CrawlLockedError(f"site {name!r} is being crawled by process {_pid_of(crawl)} "
                                           "on this machine; wait for it to finish")
                if time.monotonic() > deadline:
                    raise CrawlLockedError(f"the worker (pid {_pid_of(worker)}) of a killed crawl of site {name!r} "
                                           f"has not exited after {ORPHAN_WAIT:.0f} s; stop it, then try again")
                if waiting_for != worker:
                    waiting_for = worker
                    logger.warning("site %s: waiting for the worker (pid %s) of a killed crawl to save its state",
                                   name, _pid_of(worker))
                time.sleep(0.1)
        except BaseException:
            os.close(fd)
            raise

    def note_worker(self, pid: int) -> None:
        """Name the worker that shares the locks (for a later crawl's messages)."""
        if self._fds:
            from monitor.storage.recorder import process_owner

            worker = process_owner(pid, tag="worker")
            for fd in self._fds:
                _write_holder(fd, {"crawl": self.owner, "worker": worker})

    def __exit__(self, *exc: Any) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)  # a worker still alive keeps its inherited lock until it exits


def _write_holder(fd: int, holder: dict[str, str]) -> None:
    data = json.dumps(holder).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _pid_of(owner: str) -> str:
    parts = owner.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "?"
