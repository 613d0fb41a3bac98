"""The real APScheduler, a trigger seconds apart, real crawls of the sandbox."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import load_config
from monitor.sandbox import Sandbox, SandboxServer
from monitor.scheduler import MonthlyScheduler
from monitor.storage import Database


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def sandbox_url():
    world = Sandbox(seed=7)
    with SandboxServer(world, port=0, month=world.months[-1]) as server:
        yield server.url, world.sites[0].name


def test_runs_refuses_overlap_and_coalesces_missed_runs(tmp_path: Path, sandbox_url) -> None:
    url, site = sandbox_url
    overrides = {
        "data_dir": str(tmp_path / "data"),
        "sandbox_url": url,
        "sites": [site],
        "download_delay": 0.0,
        "autothrottle": False,
        "max_pages_per_site": 60,
    }
    config = load_config(overrides=overrides, environ={})
    Database(config.db_url).upgrade()

    # 1. A run happens, and a run due while it is still going is refused.
    scheduler = MonthlyScheduler(config, trigger=IntervalTrigger(seconds=1), overrides=overrides)
    scheduler.start()
    try:
        assert _wait(lambda: scheduler.events["executed"] >= 1, 120), scheduler.events
        assert scheduler.events["error"] == 0, scheduler.events
        assert scheduler.events["refused_overlap"] >= 1, scheduler.events
    finally:
        scheduler.shutdown()
    reports = list((tmp_path / "data" / "reports").glob("report-*.html"))
    assert reports, "the run wrote no report"

    # 2. Three or more runs missed while "the machine was off" run once on restart.
    time.sleep(3.5)
    restarted_at = datetime.now(config.tz)
    late_runs: list[datetime] = []
    scheduler = MonthlyScheduler(config, trigger=IntervalTrigger(seconds=1), overrides=overrides)

    def on_executed(event) -> None:
        if event.scheduled_run_time < restarted_at:
            late_runs.append(event.scheduled_run_time)

    scheduler.scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        assert _wait(lambda: scheduler.events["executed"] >= 1, 120), scheduler.events
    finally:
        scheduler.shutdown()
    assert len(late_runs) == 1, late_runs
