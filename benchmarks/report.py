"""How long the monthly report takes on a large database (target: under 3 s cold, 1 s warm at 1,000,000 listings).

    .venv/bin/python benchmarks/report.py [--listings 1000000] [--db PATH] [--keep]

Builds an SQLite database through the migrations and fills it with benchmarks/storage.py's
generator (30 sites, 36 months, 15% of listings flagged, 5 observations per listing, with
species rows, matches, contacts, dealers, removals, takedown requests, reviews and crawl
health), then times ``render_report`` for the last month (the stats queries, the charts
and the page, written to a file), first with the database file dropped from the OS page
cache, then warm. Every figure is as known at the end of the month, read from the month's snapshot
(``monitor.storage.snapshots``), which is written first, as the monthly job does when the
month's crawl is done (its time is printed apart). With ``--keep`` an existing database of the
right size is reused and upgraded (the fill takes minutes; it is set-up, not what is measured).

Measured on two shared cores (load average about 1), 999,972 listings, 2025-12: the snapshot
written in 8 s; render_report 1.6 s cold, 0.71 s warm (stats queries 0.6 s, charts and page
0.1 s). It was 2.0-2.4 s cold and 1.1-1.5 s warm before the cycle collector was paused and the
engine kept during a report, the takedown baselines read in one pass, the dealers' records
counted with the snapshot and the charts given fixed margins.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from monitor.config import load_config
from monitor.collector import paused
from monitor.reports import build_context, render_html, render_report
from monitor.storage import Database, snapshots

# The storage engineer's generator (benchmarks/storage.py) fills the database: the same
# data the stats queries are timed on, so the two benchmarks' figures can be compared.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from storage import N_MONTHS, fill_database, listing_count, months  # noqa: E402

def evict_from_cache(path: Path) -> None:
    """Ask the OS to drop this database's cached pages (no effect on other files)."""
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and hasattr(os, "posix_fadvise"):
            fd = os.open(part, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it already holds --listings listings")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="wtm-report-bench-"))
    path = args.db or folder / "wtm.sqlite3"
    fill_database(path, args.listings, args.keep)
    month = months(N_MONTHS)[-1]
    config = load_config(None, {"data_dir": str(folder), "database_url": f"sqlite:///{path}"})
    count = listing_count(path)
    # Set-up, as the monthly job does when the month's crawl is done: the schema current and
    # the month's snapshot written (the report reads it; without it the first report writes it).
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    started = time.perf_counter()
    with db.session() as s:
        snapshots.write(s, month)
    print(f"month snapshot {month} written in {time.perf_counter() - started:.2f} s")
    db.dispose()

    # Cold: the database file's pages dropped from the OS cache (this file only), as after a
    # reboot or when the report runs long after the crawl. Warm: right after another run.
    for label, limit in (("cold", 3), ("warm", 1)):
        if label == "cold":
            evict_from_cache(path)
        started = time.perf_counter()
        out = render_report(config, month, folder / f"report-{month}.html")
        total = time.perf_counter() - started
        print(f"render_report, {count:,} listings, month {month}, {label} cache: {total:.2f} s "
              f"(target < {limit} s: {'met' if total < limit else 'MISSED'}) -> {out}")
    # The same two steps apart, as render_report runs them (collector paused, engine kept).
    db = Database(f"sqlite:///{path}")
    with paused():
        build_context(db, month, "zh")
        started = time.perf_counter()
        context = build_context(db, month, "zh")
        queries = time.perf_counter() - started
        started = time.perf_counter()
        html = render_html(context)
        page = time.perf_counter() - started
    db.dispose()
    print(f"  of which (warm): stats queries {queries:.2f} s, charts and page {page:.2f} s ({len(html) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
