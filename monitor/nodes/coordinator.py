"""Spread a crawl over Scrapyd nodes: one job per site on the least busy node, polled to its end.

Each job writes straight into the shared PostgreSQL through the same pipelines as a local
crawl (``monitor.nodes.loader``); this side opens the run, schedules, shows progress per site,
reads each site's health from the database and closes the run. Jobs carry only the run id,
the observation time and non-secret flags: every node reads the database URL from its own
configuration, since Scrapyd shows a job's settings in ``listjobs.json`` and ``ps``.

A node that stops answering for ``NODE_TIMEOUT`` seconds is given up: its unfinished sites are
scheduled again on another node and restart (writes are idempotent; the lock its job held is
released at once, as is the lock of any job Scrapyd reports ended). One coordinator at a time:
a second one is refused (CrawlLockedError, exit 5) by a PostgreSQL advisory lock that dies with
its session.

Ctrl-C (SIGINT) or SIGTERM: the coordinator cancels its pending and running jobs (``cancel.json``),
waits for them to end, releases what locks they still hold, and leaves the run open (interrupted),
its id kept in ``data_dir/state/nodes/<month>.run.json``. The same crawl started again resumes that
run: sites it finished are not crawled again, the others restart on the nodes.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from monitor.config import Config
from monitor.crawlhealth import SiteHealth
from monitor.crawling.health import GOOD_FINISH
from monitor.crawling.interrupts import Interrupts
from monitor.crawling.progress import outcome_line
from monitor.crawling.runner import CrawlSummary, open_database
from monitor.crawling.settings import state_dir
from monitor.crawling.sites import sites_for_config
from monitor.exceptions import CrawlError, CrawlLockedError
from monitor.nodes.deploy import deploy_to, nodes_of
from monitor.nodes.egg import PROJECT, build_egg
from monitor.nodes.scrapyd import NodeUnreachable, ScrapydNode
from monitor.storage.models import CrawlRun
from monitor.storage.recorder import check_site_locks, site_outcome, take_over_lock

logger = logging.getLogger(__name__)

NODE_TIMEOUT = 15.0  # seconds without an answer before a node's sites go elsewhere
POLL_EVERY = 1.0
CANCEL_WAIT = 60.0  # seconds cancelled jobs get to close their sites before their locks are taken over
_ADVISORY_KEY = 0x77746D  # "wtm"


@dataclass
class Job:
    site: str
    node: int
    jobid: str
    attempt: int = 1
    state: str = "pending"


@dataclass
class _Node:
    api: ScrapydNode
    alive: bool = True
    last_answer: float = field(default_factory=time.monotonic)


@contextmanager
def coordinator_lock(db: Any) -> Iterator[None]:
    """Held for the whole crawl; a second coordinator is refused while the first's session lives."""
    with db.engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar():
            raise CrawlLockedError("another coordinator is crawling on the Scrapyd nodes of this database; "
                                   "wait for it to end")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})


def run_on_nodes(
    config: Config,
    sites: list[str] | None = None,
    *,
    as_of: datetime | None = None,
    keywords: list[str] | None = None,
    progress: bool = True,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    polite: bool = True,
    run_kind: str | None = None,
) -> CrawlSummary:
    """Crawl ``sites`` (default: the configured ones) on the configured Scrapyd nodes; the same
    summary as ``monitor.crawling.run_crawl``. Deploys the egg first where a node lacks it."""
    nodes = [_Node(api) for api in nodes_of(config)]
    as_of = as_of or datetime.now(config.tz)
    month = as_of.strftime("%Y-%m")
    broken: list[Any] = []
    chosen = sites_for_config(config, sites, broken)
    names = sorted(chosen)
    if not names and not broken:
        raise CrawlError("no site definitions to crawl")
    egg = build_egg()
    for node in nodes:
        try:
            deploy_to(node.api, egg)
        except NodeUnreachable as exc:
            node.alive = False
            logger.warning("%s; crawling without it", exc)
    if not any(node.alive for node in nodes):
        raise CrawlError("no Scrapyd node of scrapyd_urls answers")
    version = egg.stored_as
    db = open_database(config)
    summary = CrawlSummary(run_id=None, month=month, started_at=datetime.now(timezone.utc),
                           log_file=config.data_path / "logs" / "crawl.log")
    for error in broken:  # a broken site file fails its site, as in a local crawl
        summary.sites[Path(str(error).split(":", 1)[0]).stem] = SiteHealth.failed(str(error))
    show = _show(progress, on_event)
    try:
        with coordinator_lock(db), Interrupts() as interrupts:
            check_site_locks(db, names)
            summary.run_id, done, plans = _open_run(config, db, names, month,
                                                    run_kind or ("monthly" if not sites else "site"), as_of,
                                                    lambda: _plans(config, chosen, month, db, keywords))
            for site, health in done.items():
                summary.sites[site] = health
                show({"event": "site_done", "site": site, "health": health.to_json(),
                      "text": "finished before the crawl was interrupted"})
            settings = {"WTM_RUN_ID": str(summary.run_id), "WTM_AS_OF": as_of.isoformat(), "WTM_POLITE": str(polite)}
            crawl = _Crawl(db, nodes, version, settings, plans, summary, show)
            try:
                crawl.run([name for name in names if name not in done])
            except BaseException as exc:  # Ctrl-C or an error here: the jobs must not run on unwatched
                summary.interrupted = True
                interrupts.defer = True  # cancelling is not cut short by a second signal
                logger.warning("%s: cancelling the run's jobs; the same crawl run again resumes run %s",
                               exc if isinstance(exc, KeyboardInterrupt) and str(exc) else type(exc).__name__,
                               summary.run_id)
                crawl.cancel_all()
                raise
            summary.finished_at = datetime.now(timezone.utc)
            db.finish_run(summary.run_id, summary.finished_at)
            _run_file(config, month).unlink(missing_ok=True)
    except (OperationalError, ProgrammingError) as exc:  # the shared database failed (the jobs were cancelled)
        raise db.error("crawl on the Scrapyd nodes with", exc) from None
    finally:
        for node in nodes:
            node.api.close()
        db.dispose()
    _log_outcomes(config, summary)
    return summary


def _run_file(config: Config, month: str) -> Path:
    return state_dir(config) / "nodes" / f"{month}.run.json"


def _open_run(config: Config, db: Any, names: list[str], month: str, kind: str, as_of: datetime,
              plan: Callable[[], dict[str, dict]]) -> tuple[int, dict[str, SiteHealth], dict[str, dict]]:
    """This month's interrupted run on the nodes, with the health of each of ``names`` it finished
    (those are not crawled again) and the plans it was started with (the yields its finished sites
    stored must not change the others' queries), else a new run and ``plan()``; the run's id and
    plans are kept until the run is closed."""
    path = _run_file(config, month)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        run_id, plans = int(kept["run_id"]), dict(kept["plans"])
    except (OSError, ValueError, KeyError, TypeError):
        run_id, plans = None, {}
    if run_id is not None:
        with db.engine.connect() as conn:
            open_run = conn.execute(select(CrawlRun.id).where(CrawlRun.id == run_id, CrawlRun.month == month,
                                                              CrawlRun.finished_at.is_(None))).first()
        if open_run is not None:
            done = {}
            for name in names:
                outcome = site_outcome(db, run_id, name)
                if outcome is not None and outcome[0] == "finished" and outcome[1] is not None \
                        and outcome[1].finish_reason in GOOD_FINISH:
                    done[name] = outcome[1]
            logger.info("resuming interrupted crawl run %s of %s on the Scrapyd nodes (%d of %d sites done)",
                        run_id, month, len(done), len(names))
            missing = [name for name in names if name not in plans and name not in done]
            return run_id, done, {**(plan() if missing else {}), **plans}
    plans = plan()
    run_id = db.start_run(kind=kind, started_at=as_of, month=month)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": run_id, "kind": kind, "plans": plans}, ensure_ascii=False), encoding="utf-8")
    return run_id, {}, plans


def _plans(config: Config, sites: dict[str, Any], month: str, db: Any, keywords: list[str] | None) -> dict[str, dict]:
    """Each site's job argument ``plan``: planned here before any site crawls, as a local crawl
    plans, so a site's queries do not depend on which other sites' jobs ended first."""
    if keywords:
        return {name: {"plan": json.dumps({"queries": list(keywords), "kinds": {}}, ensure_ascii=False)}
                for name in sites}
    from monitor.crawling.planner import plan_sites

    return {name: {"plan": json.dumps(plan.to_job(), ensure_ascii=False)}
            for name, plan in plan_sites(config, sites, month, db=db).items()}


def _show(progress: bool, on_event: Callable[[dict[str, Any]], None] | None) -> Callable[[dict[str, Any]], None]:
    def show(event: dict[str, Any]) -> None:
        if on_event is not None:
            on_event(event)
        logger.log(logging.INFO if progress else logging.DEBUG, "site %s: %s", event["site"],
                   event.get("text", event["event"]))
    return show


class _Crawl:
    """One run's jobs: scheduling, polling, moving a dead node's sites, reading outcomes."""

    def __init__(self, db: Any, nodes: list[_Node], version: str, settings: dict[str, str], args: dict[str, dict],
                 summary: CrawlSummary, show: Callable[[dict[str, Any]], None]) -> None:
        self.db, self.nodes, self.version, self.settings, self.args = db, nodes, version, settings, args
        self.summary, self.show = summary, show
        self.jobs: dict[str, Job] = {}
        self.run_id = int(settings["WTM_RUN_ID"])
        self.attempts: dict[str, int] = {}

    def run(self, names: list[str]) -> None:
        self._count_attempts()
        todo = list(names)
        while todo or self.jobs:
            todo = [site for site in todo if not self._schedule(site)]
            if todo and not any(n.alive for n in self.nodes):
                for site in todo:
                    self._done(site, SiteHealth.failed("no Scrapyd node answers", finish_reason="unknown"))
                todo = []
            time.sleep(POLL_EVERY)
            for index, node in enumerate(self.nodes):
                if node.alive:
                    todo += self._poll(index, node)

    def _count_attempts(self) -> None:
        """A resumed run's job ids go on from those the nodes still list (Scrapyd keeps ids)."""
        prefix = f"run{self.run_id}-"
        for node in self.nodes:
            try:
                known = node.api.jobs(PROJECT) if node.alive else {}
            except CrawlError:
                continue
            for jobid in known:
                site, _, attempt = jobid[len(prefix):].rpartition("-")
                if jobid.startswith(prefix) and attempt.isdigit():
                    self.attempts[site] = max(self.attempts.get(site, 0), int(attempt))

    def cancel_all(self) -> None:
        """Cancel every pending and running job (Scrapyd sends a running one SIGINT: it closes its
        site as interrupted), wait up to CANCEL_WAIT seconds for them to end, then release the lock
        of any still held (its record is marked failed)."""
        for job in self.jobs.values():
            node = self.nodes[job.node]
            try:
                node.api.cancel(PROJECT, job.jobid)
                logger.warning("site %s: cancelled job %s on %s", job.site, job.jobid, node.api.name)
            except CrawlError as exc:
                logger.warning("site %s: could not cancel job %s: %s", job.site, job.jobid, exc)
        deadline = time.monotonic() + CANCEL_WAIT
        while self.jobs and time.monotonic() < deadline:
            for index, node in enumerate(self.nodes):
                try:
                    states = node.api.jobs(PROJECT) if node.alive else {}
                except CrawlError:
                    states = {}
                for job in [j for j in self.jobs.values() if j.node == index]:
                    if not node.alive or states.get(job.jobid, "absent") in ("finished", "absent"):
                        take_over_lock(self.db, job.site, f"its job {job.jobid} was cancelled")
                        del self.jobs[job.site]
            if self.jobs:
                time.sleep(POLL_EVERY / 2)
        for job in list(self.jobs.values()):
            logger.warning("site %s: job %s did not end within %.0f s of its cancelling", job.site, job.jobid,
                           CANCEL_WAIT)
            take_over_lock(self.db, job.site, f"its job {job.jobid} was cancelled")

    def _least_busy(self) -> int | None:
        load = {i: 0 for i, n in enumerate(self.nodes) if n.alive}
        for job in self.jobs.values():
            if job.node in load:
                load[job.node] += 1
        return min(load, key=lambda i: (load[i], i)) if load else None

    def _schedule(self, site: str) -> bool:
        """Put ``site``'s job on the least busy node; False when no node took it."""
        while (index := self._least_busy()) is not None:
            node = self.nodes[index]
            attempt = self.attempts[site] = self.attempts.get(site, 0) + 1
            jobid = f"run{self.settings['WTM_RUN_ID']}-{site}-{attempt}"
            try:
                node.api.schedule(PROJECT, site, self.version, self.settings, jobid, self.args.get(site))
            except NodeUnreachable as exc:
                self._lost(index, str(exc))
                continue
            except CrawlError as exc:  # Scrapyd refused the job (an unknown spider, say)
                self._done(site, SiteHealth.failed(str(exc), finish_reason="unknown"))
                return True
            self.jobs[site] = Job(site, index, jobid, attempt)
            self.show({"event": "site_start", "site": site, "node": node.api.name, "job": jobid,
                       "text": f"scheduled on {node.api.name} as job {jobid}"})
            return True
        return False

    def _poll(self, index: int, node: _Node) -> list[str]:
        """Read the node's jobs; returns the sites to schedule again (all of a node given up)."""
        try:
            states = node.api.jobs(PROJECT)
        except NodeUnreachable as exc:
            if time.monotonic() - node.last_answer < NODE_TIMEOUT:
                return []
            return self._lost(index, str(exc))
        node.last_answer = time.monotonic()
        for job in [j for j in self.jobs.values() if j.node == index]:
            state = states.get(job.jobid, "absent")
            if state == "running" and job.state != "running":
                self.show({"event": "site_running", "site": job.site, "text": f"running on {node.api.name}"})
            job.state = state
            if state in ("finished", "absent"):
                self._collect(job, node)
        return []

    def _lost(self, index: int, why: str) -> list[str]:
        node = self.nodes[index]
        node.alive = False
        moved = [job for job in self.jobs.values() if job.node == index]
        logger.warning("Scrapyd node %s stopped answering (%s); scheduling its %d unfinished sites elsewhere",
                       node.api.name, why, len(moved))
        again = []
        for job in moved:
            del self.jobs[job.site]
            take_over_lock(self.db, job.site, f"its Scrapyd node {node.api.name} stopped answering")
            outcome = site_outcome(self.db, self.run_id, job.site)
            if outcome is not None and outcome[0] == "finished" and outcome[1] is not None:
                self._done(job.site, outcome[1])  # it ended before its node did
                continue
            again.append(job.site)
            self.show({"event": "site_moved", "site": job.site, "text": f"node {node.api.name} lost; moving"})
        return again

    def _collect(self, job: Job, node: _Node) -> None:
        """The site's outcome as its job stored it; a job that ended without finishing is a failure."""
        take_over_lock(self.db, job.site, f"Scrapyd reports its job {job.jobid} ended")
        outcome = site_outcome(self.db, self.run_id, job.site)
        if outcome is not None and outcome[0] == "finished" and outcome[1] is not None:
            health = outcome[1]
        else:
            health = SiteHealth.failed(f"job {job.jobid} on {node.api.name} ended without finishing the site; "
                                       f"see {node.api.log_url(PROJECT, job.site, job.jobid)}", finish_reason="unknown")
        del self.jobs[job.site]
        self._done(job.site, health)

    def _done(self, site: str, health: SiteHealth) -> None:
        self.summary.sites[site] = health
        verdict = "ok" if health.healthy else f"UNHEALTHY: {'; '.join(health.problems)}"
        self.show({"event": "site_done", "site": site, "health": health.to_json(),
                   "text": f"{verdict}, {health.items} listings, {health.pages} pages"})


def _log_outcomes(config: Config, summary: CrawlSummary) -> None:
    stamp = (summary.finished_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    lines = [outcome_line(name, summary.sites[name], stamp, summary.month) for name in sorted(summary.sites)]
    try:
        summary.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(summary.log_file, "a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
    except OSError as exc:
        logger.warning("could not append to %s: %s", summary.log_file, exc)
