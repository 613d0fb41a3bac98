"""Crawl benchmark: the whole sandbox, every search keyword, politeness off.

Prints pages per second for (a) the spiders with no item pipelines and (b) the full pipeline
(normalise, contacts, matching, batched SQLite storage), both with resumable crawl state
(Scrapy's JOBDIR, on in every real crawl), crawled in one run against the same
served month, plus (b)'s share of (a), the full monthly crawl's wall time, the crawl process's
peak memory, and how much of the month's reachable listings (b) found, with field accuracy.

    .venv/bin/python benchmarks/crawl.py [--month 2025-06] [--rounds 1] [--keywords N]

The goals (issue 4): (b) >= 90 % of (a); a monthly crawl under 5 minutes; peak memory under
1 GiB. Figures are noisy when other processes share the machine's two cores.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.runner import default_keywords
from monitor.crawling.sites import load_sites
from monitor.sandbox import Sandbox, SandboxServer


def crawl_once(server_url: str, keywords: list[str], month: str, pipelines: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="wtm-bench-") as folder:
        config = load_config(overrides={"data_dir": folder, "sandbox_url": server_url, "log_level": "WARNING"})
        as_of = datetime(int(month[:4]), int(month[5:7]), 28, 20, 0, tzinfo=config.tz)
        started = time.monotonic()
        # Both crawls keep resumable state (JOBDIR), so the difference is the item pipelines alone.
        summary = run_crawl(config, keywords=keywords, as_of=as_of, progress=False, pipelines=pipelines, polite=False,
                            keep_state=True)
        wall = time.monotonic() - started
        result = {
            "pages": summary.pages, "items": summary.items, "crawl_s": summary.crawl_seconds, "wall_s": wall,
            "cpu_s": summary.cpu_seconds,
            "rss_mb": summary.peak_rss_mb, "failed": summary.failed_sites,
        }
        if pipelines:
            result["db"] = read_listings(Path(folder) / "wtm.sqlite3")
        return result


def read_listings(path: Path) -> dict:
    db = sqlite3.connect(path)
    rows = {
        (r[0], r[1]): {"price_cny": r[2], "posted_date": r[3], "location": r[4], "contacts": set()}
        for r in db.execute(
            "SELECT s.name, l.external_id, l.price_cny, date(l.posted_at), l.location, l.id "
            "FROM listings l JOIN sites s ON s.id = l.site_id"
        )
    }
    ids = {r[0]: (r[1], r[2]) for r in db.execute("SELECT l.id, s.name, l.external_id FROM listings l JOIN sites s ON s.id = l.site_id")}
    for listing_id, value in db.execute(
        "SELECT lc.listing_id, c.value FROM listing_contacts lc JOIN contacts c ON c.id = lc.contact_id"
    ):
        rows[ids[listing_id]]["contacts"].add(value.lower())
    return rows


def against_truth(world: Sandbox, month: str, keywords: list[str], stored: dict) -> dict:
    """Share of reachable live listings found, and of their fields stored right."""
    sites = load_sites()
    truth = {(x["site"], x["external_id"]): x for x in world.truth(month)}
    reach = set()
    for name, site in sites.items():
        for keyword in keywords:
            for external_id in world.search(name, site.site_keyword(keyword), month):
                if truth.get((name, external_id), {}).get("state") == "live":
                    reach.add((name, external_id))
    found = reach & set(stored)
    right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key in found:
        x, row = truth[key], stored[key]
        want_price = x["price_cny"]
        checks = {
            "price": (want_price is None and row["price_cny"] is None)
            or (want_price is not None and row["price_cny"] is not None and abs(want_price - row["price_cny"]) < 0.01),
            "date": x["posted_date"] == row["posted_date"],
            "location": x["location"] == row["location"],
        }
        wanted = {c["value"].lower() for c in x["contacts"] if c["variant"] != "missing_digit"}
        if wanted:
            checks["contact"] = wanted <= row["contacts"]
        for field, ok in checks.items():
            right[field][0] += 1
            right[field][1] += ok
    return {"reachable": len(reach), "found": len(found),
            "accuracy": {f: 100 * r / n for f, (n, r) in right.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", help="Simulated month to crawl (default: the sandbox's last).")
    parser.add_argument("--rounds", type=int, default=1, help="Alternate (a) and (b) this many times.")
    parser.add_argument("--keywords", type=int, default=0, help="Use only the first N search keywords.")
    parser.add_argument("--no-warmup", action="store_true",
                        help="Skip the uncounted first crawl (it takes the sandbox's once-a-month 500s and "
                             "fills its search cache, which would otherwise favour whichever crawl runs second).")
    args = parser.parse_args(argv)

    world = Sandbox(seed=20120101)
    month = args.month or world.months[-1]
    keywords = default_keywords(load_config(overrides={"data_dir": tempfile.gettempdir()}))
    if args.keywords:
        keywords = keywords[: args.keywords]
    print(f"sandbox month {month}, {len(load_sites())} sites, {len(keywords)} search keywords, politeness off")
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    with SandboxServer(world, port=0, month=month) as server:
        if not args.no_warmup:
            warm = crawl_once(server.url, keywords, month, pipelines=False)
            print(f"  warm-up (not counted): {warm['pages']} pages in {warm['crawl_s']:.1f} s", flush=True)
        for _ in range(args.rounds):
            for label, pipelines in (("a", False), ("b", True)):
                result = crawl_once(server.url, keywords, month, pipelines)
                runs[label].append(result)
                print(f"  ({label}) {'full pipeline' if pipelines else 'spiders only '}: {result['pages']} pages, "
                      f"{result['items']} listings, crawl {result['crawl_s']:.1f} s "
                      f"= {result['pages'] / result['crawl_s']:.1f} pages/s; crawler CPU {result['cpu_s']:.1f} s "
                      f"({1000 * result['cpu_s'] / result['pages']:.1f} ms/page); wall {result['wall_s']:.1f} s; "
                      f"peak RSS {result['rss_mb']:.0f} MB; unhealthy: {result['failed'] or 'none'}", flush=True)
    rate = {k: statistics.median(r["pages"] / r["crawl_s"] for r in v) for k, v in runs.items()}
    full = runs["b"][-1]
    cpu = {k: statistics.median(r["cpu_s"] / r["pages"] for r in v) for k, v in runs.items()}
    print(f"(a) spiders only : {rate['a']:.1f} pages/s")
    print(f"(b) full pipeline: {rate['b']:.1f} pages/s = {100 * rate['b'] / rate['a']:.0f}% of (a)  (goal >= 90%)")
    print(f"crawler CPU per page: (a) {1000 * cpu['a']:.2f} ms, (b) {1000 * cpu['b']:.2f} ms "
          f"(CPU-bound rate of (b) = {100 * cpu['a'] / cpu['b']:.0f}% of (a)); the sandbox server, not the "
          "crawler, limits wall-clock pages/s here")
    print(f"monthly crawl (b), end to end: {full['wall_s']:.1f} s  (goal < 300 s)")
    print(f"peak memory of the crawl process: {max(r['rss_mb'] for v in runs.values() for r in v):.0f} MB  (goal < 1024 MB)")
    quality = against_truth(world, month, keywords, full["db"])
    print(f"found {quality['found']} of {quality['reachable']} reachable live listings "
          f"= {100 * quality['found'] / max(1, quality['reachable']):.2f}%")
    print("fields right: " + ", ".join(f"{f} {p:.2f}%" for f, p in sorted(quality["accuracy"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
