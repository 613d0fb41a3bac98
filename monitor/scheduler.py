"""The in-process schedule: APScheduler 3.x firing the monthly job.

The job store lives in the monitor's own database, so a run that was due while the
machine was off is found on restart; ``coalesce`` folds any number of missed runs into
one, ``max_instances=1`` refuses a run while the previous one is still going, and
``misfire_grace_time=None`` lets a late run start however late it is. Crawls run in
subprocesses (Twisted's reactor cannot restart), so the scheduler itself never imports
Scrapy.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from monitor.config import Config, cron_trigger, load_config
from monitor.exceptions import ConfigError

log = logging.getLogger("monitor.scheduler")

JOB_ID = "wtm-monthly"
JOB_TABLE = "apscheduler_jobs"


def scheduled_run(config_file: str | None, overrides: dict[str, Any]) -> None:
    """What the scheduler calls: reload the configuration, then run the month.

    Only plain values are pickled into the job store, so editing wtm.toml takes
    effect at the next run without rescheduling.
    """
    from monitor.monthly import run_monthly

    config = load_config(config_file, overrides)
    outcome = run_monthly(config)
    if outcome.failed_sites:
        log.warning("scheduled run for %s: sites failed: %s; report at %s",
                    outcome.month, ", ".join(outcome.failed_sites), outcome.report_path)
    else:
        log.info("scheduled run for %s: all sites crawled; report at %s", outcome.month, outcome.report_path)


class MonthlyScheduler:
    """Owns one APScheduler instance and counts what happened, for logs and tests."""

    def __init__(
        self,
        config: Config,
        trigger: BaseTrigger | None = None,
        overrides: dict[str, Any] | None = None,
        func: Any = scheduled_run,
    ) -> None:
        self.config = config
        # The same parser load_config validated the schedule with (it also refused one that never fires).
        try:
            self.trigger = trigger or cron_trigger(config.schedule, config.tz)
        except ValueError as exc:
            raise ConfigError(f"{config.sources.get('schedule', 'configuration')}: schedule: {exc}") from None
        self.events: Counter[str] = Counter()
        self._func = func
        self._args = [str(config.config_file) if config.config_file else None, dict(overrides or {})]
        config.data_path.mkdir(parents=True, exist_ok=True)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=config.db_url, tablename=JOB_TABLE)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=config.tz,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED
        )

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            self.events["executed"] += 1
        elif event.code == EVENT_JOB_ERROR:
            self.events["error"] += 1
            log.error("monthly run failed: %s", getattr(event, "exception", "unknown error"))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.events["refused_overlap"] += 1
            log.warning("a monthly run was due while the previous one is still going; not started twice")
        elif event.code == EVENT_JOB_MISSED:
            self.events["missed"] += 1

    def start(self) -> None:
        """Start, keeping a stored job (and so its missed run) unless its schedule changed."""
        self.scheduler.start(paused=True)
        job = self.scheduler.get_job(JOB_ID)
        if job is not None and str(job.trigger) == str(self.trigger) and job.args == tuple(self._args):
            log.info("resuming the stored schedule; next run %s", job.next_run_time)
        else:
            job = self.scheduler.add_job(
                self._func, self.trigger, args=self._args, id=JOB_ID, name="monthly crawl and report",
                replace_existing=True,
            )
            log.info("scheduled the monthly run (%s); next run %s", self.trigger, job.next_run_time)
        self.scheduler.resume()

    @property
    def next_run_time(self) -> Any:
        job = self.scheduler.get_job(JOB_ID)
        return job.next_run_time if job else None

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
