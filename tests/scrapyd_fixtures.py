"""Two real Scrapyd nodes on loopback, the sandbox and fresh PostgreSQL databases, for the tests
of crawls on Scrapyd nodes (test_scrapyd*.py): the nodes run from the venv `make scrapyd-node`
builds (Scrapyd 1.6 needs setuptools<81), the databases on WTM_TEST_POSTGRES_URL's server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database

CHECKOUT = Path(__file__).resolve().parent.parent
SCRAPYD = CHECKOUT / ".venv" / "scrapyd-node" / "bin" / "scrapyd"
POSTGRES = os.environ.get("WTM_TEST_POSTGRES_URL", "")
SITES = ["huaxiacang", "lutian", "tongcheng", "paipaitao"]
MONTHS = ["2025-11", "2025-12"]
# One request at a time (monitor.crawling.settings.one_at_a_time), so what a site's crawl reads, and
# what the budget drops at its end (the second month's plans reach it), does not depend on timing.
SETTINGS = {"download_delay": 0.0, "autothrottle": False, "requests_per_site": 1000, "concurrency_per_site": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def databases() -> Iterator[Any]:
    """``new()`` makes a fresh, migrated PostgreSQL database and returns its URL; all are dropped after."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new() -> str:
        name = f"wtm_nodes_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        db = Database(url)
        db.upgrade()
        db.dispose()
        return url

    yield new
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Node:
    """One Scrapyd process in its own session (so killing it kills its jobs too)."""

    def __init__(self, folder: Path, env: dict[str, str], max_proc: int = 2, auth: str = "") -> None:
        folder.mkdir(parents=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        login = "username = {}\npassword = {}\n".format(*auth.split(":")) if auth else ""
        (folder / "scrapyd.conf").write_text(
            f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {self.port}\nmax_proc = {max_proc}\n{login}"
            f"eggs_dir = {folder}/eggs\nlogs_dir = {folder}/logs\ndbs_dir = {folder}/dbs\nitems_dir =\n"
            "poll_interval = 0.5\n", encoding="utf-8")
        self.process = subprocess.Popen([str(SCRAPYD)], cwd=folder, env=env, start_new_session=True,
                                        stdout=open(folder / "scrapyd.out", "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/daemonstatus.json", timeout=2).status_code in (200, 401):
                    return
            except (httpx.HTTPError, ValueError):
                time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"Scrapyd did not start; see {folder / 'scrapyd.out'}")

    def running(self) -> list[dict]:
        return httpx.get(f"{self.url}/listjobs.json", params={"project": "wtm"}, timeout=5).json().get("running", [])

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(), month=MONTHS[0]) as server:
        yield server


def node_env(db_url: str, data: Path, sandbox: SandboxServer) -> dict[str, str]:
    """A node's own configuration: the database URL never travels in a job."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
    env.update(WTM_DATABASE_URL=db_url, WTM_DATA_DIR=str(data), WTM_SANDBOX_URL=sandbox.url,
               **{f"WTM_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in SETTINGS.items()})
    return env


@pytest.fixture
def two_nodes(tmp_path: Path, databases: Any, sandbox: SandboxServer) -> Iterator[tuple[str, list[Node]]]:
    url = databases()
    nodes: list[Node] = []
    try:
        for i in (1, 2):
            nodes.append(Node(tmp_path / f"node{i}", node_env(url, tmp_path / "shared-data", sandbox), max_proc=1))
        yield url, nodes
    finally:
        for node in nodes:
            node.kill()


def config_for(db_url: str, data: Path, sandbox: SandboxServer, nodes: list[Node] | None = None) -> Any:
    overrides = {"database_url": db_url, "data_dir": str(data), "sandbox_url": sandbox.url, **SETTINGS}
    if nodes:
        overrides["scrapyd_urls"] = [node.url for node in nodes]
    return load_config(overrides=overrides)


def snapshot(db_url: str) -> dict[str, Any]:
    """What a crawl stored that must not depend on where it ran."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        listings = conn.execute(text(
            "SELECT s.name, l.external_id, l.title, l.flagged, l.removed_month, l.removal_kind, l.first_seen_month "
            "FROM listings l JOIN sites s ON s.id = l.site_id")).all()
        matches = conn.execute(text(
            "SELECT s.name, l.external_id, m.species, m.term, m.field, m.start_offset FROM matches m "
            "JOIN listings l ON l.id = m.listing_id JOIN sites s ON s.id = l.site_id")).all()
    engine.dispose()
    return {"listings": sorted(map(tuple, listings)), "matches": sorted(map(tuple, matches))}


def stored_once(db_url: str, run_id: int) -> None:
    """Each site has exactly one finished crawl record in the run, and each listing one observation in it."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        finished = dict(conn.execute(text(
            "SELECT s.name, count(*) FROM site_crawls c JOIN sites s ON s.id = c.site_id "
            "WHERE c.run_id = :r AND c.status = 'finished' GROUP BY s.name"), {"r": run_id}).all())
        twice = conn.execute(text(
            "SELECT o.listing_id FROM observations o JOIN site_crawls c ON c.id = o.site_crawl_id "
            "WHERE c.run_id = :r AND c.status = 'finished' GROUP BY o.listing_id HAVING count(*) > 1"),
            {"r": run_id}).all()
        matches_twice = conn.execute(text(
            "SELECT listing_id FROM matches GROUP BY listing_id, species, term, field, start_offset "
            "HAVING count(*) > 1")).all()
        locks = conn.execute(text("SELECT count(*) FROM site_locks")).scalar()
    engine.dispose()
    assert finished == {site: 1 for site in SITES}
    assert not twice and not matches_twice
    assert locks == 0


def local_crawl(databases: Any, tmp_path: Path, sandbox: SandboxServer, months: list[str]) -> str:
    url = databases()
    config = config_for(url, tmp_path / "local-data", sandbox)
    for month in months:
        sandbox.set_month(month)
        summary = run_crawl(config, sites=SITES, as_of=as_of(config, month), progress=False)
        assert summary.ok, summary.failed_sites
    return url


def as_of(config: Any, month: str) -> Any:
    return datetime.fromisoformat(f"{month}-28T20:00").replace(tzinfo=config.tz)

