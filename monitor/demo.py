"""The demo: six months of monthly monitoring of the simulated marketplaces, in minutes.

It starts the sandbox on a free loopback port, then for each of the last ``months``
simulated months crawls every site, files takedown requests for the flagged ads still
online (with the recorder and with the sandbox, whose platforms then remove a share of
them; ``DEMO_HOLD_OUT`` of the ads are never reported, the baseline), and writes the month's report, all into a fresh SQLite database.

To stay within a few minutes it gives each site a smaller budget than a real monthly crawl
(``DEMO_REQUESTS_PER_SITE`` requests instead of ``requests_per_site``), so it searches less,
and says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from monitor.config import Config
from monitor.exceptions import ConfigError
from monitor.months import month_end

log = logging.getLogger("monitor.demo")

DEMO_SEED = 20120101
# Requests per site and month the demo's crawls fit (a real crawl: requests_per_site).
DEMO_REQUESTS_PER_SITE = 80
# Share of flagged ads never reported: the control group the report's takedown baseline reads.
DEMO_HOLD_OUT = 0.3
# Beside a database the demo wrote: it may be replaced by the next demo.
DEMO_MARKER = ".wtm-demo"


@dataclass
class DemoOutcome:
    reports: list[Path] = field(default_factory=list)
    database: Path | None = None
    failed_sites: dict[str, list[str]] = field(default_factory=dict)
    # The sandbox's deliberate faults of each site (empty for a site that should never fail).
    site_faults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Requests per site and month the demo allowed, and what a real crawl would allow.
    requests_per_site: int = 0
    real_requests_per_site: int = 0

    @property
    def unexplained_failures(self) -> dict[str, list[str]]:
        """Failed sites per month that have no deliberate fault: a real breakage."""
        found = {m: [s for s in sites if not self.site_faults.get(s)] for m, sites in self.failed_sites.items()}
        return {m: sites for m, sites in found.items() if sites}

    @property
    def last_report(self) -> Path:
        return self.reports[-1]


def demo_database(config: Config) -> Path:
    """The demo's database: the default one of the data folder (``wtm.sqlite3``), so ``wtm
    report`` with the same ``--data-dir`` reads it with no other flag."""
    return config.data_path / "wtm.sqlite3"


def check_demo_folder(config: Config) -> Path:
    """The demo's database, after checking it may be replaced: it must be missing or one an
    earlier demo wrote (``DEMO_MARKER`` beside it); a monitoring database is never deleted."""
    database = demo_database(config)
    if database.exists() and not (config.data_path / DEMO_MARKER).exists():
        raise ConfigError(f"{database} exists and was not written by the demo; the demo starts from an empty "
                          f"database, so run it with another --data-dir (for example: wtm --data-dir wtm-data demo)")
    return database


def demo_config(config: Config, sandbox_url: str) -> Config:
    """The user's configuration, pointed at the data folder's default database and the local sandbox."""
    database = demo_database(config)
    return config.replace(
        database_url=f"sqlite:///{database}",
        sandbox_url=sandbox_url,
        sites=[],
        download_delay=0.0,
        autothrottle=False,
        concurrency_per_site=4,
        requests_per_site=min(int(config.requests_per_site), DEMO_REQUESTS_PER_SITE),
    )


def run_demo(
    config: Config,
    months: int = 6,
    seed: int = DEMO_SEED,
    on_step: Callable[[str], None] | None = None,
) -> DemoOutcome:
    """Run ``months`` monthly cycles against the sandbox; see the module docstring."""
    from monitor.crawljobs import crawl
    from monitor.site_titles import site_titles
    from monitor.reports import render_report
    from monitor.sandbox import Sandbox, SandboxServer
    from monitor.storage import Database
    from monitor.storage.takedowns import record_demo_takedowns

    step = on_step or (lambda message: log.info("%s", message))
    database = check_demo_folder(config)
    world = Sandbox(seed=seed)
    chosen = world.months[-months:]
    config.data_path.mkdir(parents=True, exist_ok=True)
    outcome = DemoOutcome(database=database, site_faults={site.name: tuple(site.faults) for site in world.sites})
    for stale in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        stale.unlink(missing_ok=True)
    (config.data_path / DEMO_MARKER).write_text("written by wtm demo; the next demo may replace wtm.sqlite3\n",
                                                encoding="utf-8")

    with SandboxServer(world, port=0, month=chosen[0]) as server:
        cfg = demo_config(config, server.url)
        outcome.requests_per_site = int(cfg.requests_per_site)
        outcome.real_requests_per_site = int(config.requests_per_site)
        if outcome.requests_per_site < outcome.real_requests_per_site:
            step(f"crawling each site with a smaller budget than a real monthly crawl: "
                 f"{outcome.requests_per_site} requests a month, not {outcome.real_requests_per_site} "
                 f"(requests_per_site), so it searches less and finds fewer disguised ads")
        db = Database(cfg.db_url)
        db.upgrade()
        for index, month in enumerate(chosen, 1):
            server.set_month(month)
            as_of = month_end(month, cfg.tz)
            step(f"[{index}/{len(chosen)}] {month}: crawling {len(world.sites)} simulated sites")
            summary = crawl(cfg, as_of=as_of, progress=False, polite=False)
            if summary.failed_sites:
                outcome.failed_sites[month] = list(summary.failed_sites)
            urls = record_demo_takedowns(db, month, sent_at=as_of, hold_out=DEMO_HOLD_OUT)
            world.request_takedown([_path_of(url, server.url) for url in urls], month)
            report = render_report(cfg, month, site_titles=site_titles(cfg))
            outcome.reports.append(report)
            step(f"[{index}/{len(chosen)}] {month}: {len(urls)} takedown requests filed; report {report}")
    return outcome


def _path_of(url: str, origin: str) -> str:
    return url[len(origin):] if url.startswith(origin) else url
