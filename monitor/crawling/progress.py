"""What a crawl shows while it runs (rich bars on a terminal, log lines otherwise) and the
one line per site it ends with."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Callable

from monitor.crawlhealth import SiteHealth

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[dict[str, Any]], None]


def outcome_line(name: str, health: SiteHealth | dict[str, Any], stamp: str = "", month: str = "") -> str:
    """One greppable line per site and run."""
    health = SiteHealth.from_json(health)
    verdict = "ok" if health.healthy else "UNHEALTHY"
    errors = ",".join(f"{k}={v}" for k, v in sorted(health.errors.items())) or "-"
    problems = "; ".join(health.problems) or "-"
    return (
        f"{stamp} month={month} site={name} outcome={verdict} pages={health.pages} "
        f"items={health.items} removed={health.removed} "
        f"finish={health.finish_reason or '?'} duration_s={health.duration_s} "
        f"errors={errors} problems={problems}"
    ).strip()


class ProgressDisplay:
    """rich progress bars on a terminal, plain log lines otherwise."""

    def __init__(self, names: list[str], enabled: bool, on_event: ProgressCallback | None) -> None:
        self.names = names
        self.enabled = enabled
        self.on_event = on_event
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.last_log = 0.0

    def __enter__(self) -> "ProgressDisplay":
        if self.enabled and self.on_event is None and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(), transient=False,
            )
            self.progress.start()
            overall = self.progress.add_task("all sites", total=len(self.names), status="")
            self.tasks["__all__"] = overall
            for name in self.names:
                self.tasks[name] = self.progress.add_task(name, total=None, status="waiting")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event)
            return
        if not self.enabled:
            return
        kind = event.get("event")
        if self.progress is not None:
            if kind == "progress":
                for name, counts in event["sites"].items():
                    if name in self.tasks:
                        self.progress.update(self.tasks[name], status=f"{counts['pages']} pages, {counts['items']} listings")
            elif kind == "site_done":
                health = SiteHealth.from_json(event["health"])
                status = "ok" if health.healthy else "UNHEALTHY: " + "; ".join(health.problems)
                task_id = self.tasks.get(event["site"])
                if task_id is not None:
                    self.progress.update(task_id, total=1, completed=1,
                                         status=f"{health.pages} pages, {health.items} listings, {status}")
                self.progress.advance(self.tasks["__all__"])
            return
        if kind == "site_done":
            logger.info("%s", outcome_line(event["site"], event["health"]))
        elif kind == "progress" and time.monotonic() - self.last_log > 30:
            self.last_log = time.monotonic()
            pages = sum(c["pages"] for c in event["sites"].values())
            items = sum(c["items"] for c in event["sites"].values())
            logger.info("crawling %d sites: %d pages, %d listings so far", len(event["sites"]), pages, items)
