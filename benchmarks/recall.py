"""End-to-end recall benchmark: how many of the illegal ads online the monthly crawl brings in.

Crawls N simulated months (default 6, the world's last) through the real pipeline (each site's
query plan from the lexicon and the stored yields, Scrapy in its worker, matching, storage) into
a fresh SQLite database, politeness off, and compares what the database holds flagged with the
sandbox's truth at each crawl: recall = flagged ∩ illegal-online ÷ illegal-online (a listing
illegal and live when the month's crawl runs), overall, by trick and by site; precision = the
flagged listings that are truly illegal. It also prints the requests per site and month, the
wall time, and the time a real crawl would take at the default download_delay (one request per
delay per site, sites in parallel: the busiest site sets the pace).

    .venv/bin/python benchmarks/recall.py [--months 6] [--budget N] [--seed 20120101]

The goals (issue 10): recall >= 0.95 overall and >= 0.90 for every trick, precision >= 0.98,
a real monthly crawl under 5 minutes. The last line is
``end-to-end recall R precision P requests/site N minutes M``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from monitor.config import SETTINGS, load_config
from monitor.crawling import run_crawl
from monitor.crawling.sites import load_sites
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer

DEFAULT_DELAY = next(s.default for s in SETTINGS if s.name == "download_delay")


def flagged_listings(path: Path) -> set[tuple[str, str]]:
    db = sqlite3.connect(path)
    try:
        return {(r[0], r[1]) for r in db.execute(
            "SELECT s.name, l.external_id FROM listings l JOIN sites s ON s.id = l.site_id WHERE l.flagged")}
    finally:
        db.close()


def search_requests(path: Path, month: str) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT site, SUM(requests) FROM query_yields WHERE month = ? GROUP BY site", (month,)))
    finally:
        db.close()


def share(hit: int, total: int) -> str:
    return f"{hit / total:.3f} ({hit}/{total})" if total else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=6, help="simulated months to crawl (the world's last)")
    parser.add_argument("--budget", type=int, default=None, help="requests_per_site (default: the setting's default)")
    parser.add_argument("--seed", type=int, default=20120101)
    args = parser.parse_args(argv)

    world = Sandbox(seed=args.seed)
    months = world.months[-args.months:]
    sites = load_sites()
    total: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    by_trick: dict[str, Counter[str]] = defaultdict(Counter)
    by_site: dict[str, Counter[str]] = defaultdict(Counter)
    pages: dict[tuple[str, str], int] = {}
    searches: dict[tuple[str, str], int] = {}
    truth_of: dict[tuple[str, str], dict] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wtm-recall-") as folder, \
            SandboxServer(world, port=0, month=months[0]) as server:
        overrides = {"data_dir": folder, "sandbox_url": server.url, "log_level": "WARNING"}
        if args.budget is not None:
            overrides["requests_per_site"] = args.budget
        config = load_config(overrides=overrides, environ={})
        database = Path(folder) / "wtm.sqlite3"
        for month in months:
            server.set_month(month)
            began = time.monotonic()
            summary = run_crawl(config, as_of=month_end(month, config.tz), progress=False, polite=False)
            flagged = flagged_listings(database)
            truth = world.truth(month)
            for row in truth:
                truth_of[(row["site"], row["external_id"])] = row
            online = [r for r in truth if r["illegal"] and r["state"] == "live"]
            found = [r for r in online if (r["site"], r["external_id"]) in flagged]
            total[month], hit[month] = len(online), len(found)
            for r in online:
                ok = (r["site"], r["external_id"]) in flagged
                for trick in r["tricks"] or ["plain"]:
                    by_trick[trick]["total"] += 1
                    by_trick[trick]["hit"] += ok
                by_site[r["site"]]["total"] += 1
                by_site[r["site"]]["hit"] += ok
            for name, health in summary.sites.items():
                pages[(month, name)] = int(health.get("pages", 0))
            for name, count in search_requests(database, month).items():
                searches[(month, name)] = int(count)
            failed = f", unhealthy: {', '.join(summary.failed_sites)}" if summary.failed_sites else ""
            print(f"{month}: recall {share(hit[month], total[month])}, "
                  f"{sum(v for (m, _), v in pages.items() if m == month)} requests, "
                  f"{time.monotonic() - began:.0f} s{failed}", flush=True)
        flagged = flagged_listings(database)
    wall = time.monotonic() - started

    print("\nby trick:")
    for trick in sorted(by_trick):
        print(f"  {trick:<12} {share(by_trick[trick]['hit'], by_trick[trick]['total'])}")
    print("by site (worst first):")
    for name in sorted(by_site, key=lambda n: (by_site[n]["hit"] / by_site[n]["total"], n)):
        site = sites.get(name)
        mode = f"{site.search_match}{f', cap {site.search_cap}' if site and site.search_cap else ''}" if site else "?"
        print(f"  {name:<15} {share(by_site[name]['hit'], by_site[name]['total']):<16} search {mode}")
    true_flags = sum(1 for key in flagged if truth_of.get(key, {}).get("illegal"))
    precision = true_flags / len(flagged) if flagged else 0.0
    recall = sum(hit.values()) / sum(total.values()) if sum(total.values()) else 0.0
    per_site = [v for v in pages.values()]
    mean_requests = sum(per_site) / len(per_site) if per_site else 0.0
    mean_search = sum(searches.values()) / len(searches) if searches else 0.0

    def delay(name: str) -> float:
        site = sites.get(name)
        return float((site.politeness.get("download_delay") if site else None) or DEFAULT_DELAY)

    minutes_by_month = {m: max((n * delay(s) for (mm, s), n in pages.items() if mm == m), default=0) / 60 for m in months}
    real_minutes = max(minutes_by_month.values(), default=0.0)
    busiest = max(pages.items(), key=lambda kv: kv[1] * delay(kv[0][1]))[0] if pages else ("", "")
    busiest_sites = sorted(pages.items(), key=lambda kv: -kv[1] * delay(kv[0][1]))[:3]
    print("busiest sites: " + "; ".join(
        f"{name} {month} {n} requests ({searches.get((month, name), 0)} search pages, "
        f"{n - searches.get((month, name), 0)} listing, revisit and browse pages)"
        for (month, name), n in busiest_sites))
    print(f"precision {precision:.3f} ({true_flags}/{len(flagged)} flagged listings truly illegal)")
    print(f"requests per site and month: {mean_requests:.0f} on average ({mean_search:.0f} of them search pages), "
          f"at most {max(per_site, default=0)}")
    print(f"wall time {wall / 60:.1f} min for {len(months)} months, politeness off")
    print(f"a real monthly crawl at download_delay {DEFAULT_DELAY:g} s: {real_minutes:.1f} min "
          f"(the busiest site, {busiest[1]} in {busiest[0]}, sets the pace)")
    print(f"end-to-end recall {recall:.3f} precision {precision:.3f} requests/site {mean_requests:.0f} "
          f"minutes {real_minutes:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
