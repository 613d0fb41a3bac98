"""Storage benchmark: bulk-insert years of generated monitoring data, then time the report's queries.

Fills a fresh SQLite file (migrated with `Database.upgrade()`, so every index the tool
uses is present) with 1,000,000 listings and 5,000,000 observations over 36 months, plus
the matches, species rows, contacts, dealers, takedowns and reviews that go with them,
using Core ``executemany`` inserts in batches. Prints rows/s per table and overall, then
the time of each ``monitor.storage.stats`` query for the latest month (cold and warm).

    .venv/bin/python benchmarks/storage.py               # full size (a few minutes)
    .venv/bin/python benchmarks/storage.py --scale 0.05  # quick run
    .venv/bin/python benchmarks/storage.py --url postgresql+psycopg://...  # another database

Targets (issue 5): insertion >= 20,000 rows/s; each report query < 2 s on SQLite.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from monitor.matching.species import species_table
from monitor.storage import Database, snapshots, stats
from monitor.storage.fingerprint import bands
from monitor.storage.newness import AS_OF_KEY
from monitor.storage.models import (
    Contact,
    CrawlRun,
    Dealer,
    Listing,
    ListingContact,
    ListingSpecies,
    Match,
    Observation,
    ReviewDecision,
    Site,
    SiteCrawl,
    TakedownItem,
    TakedownRequest,
)

SPECIES = [g.key for g in species_table()]  # the shipped lexicon's species.yaml
TERMS = {s: [f"{s}_term_{n}" for n in range(12)] for s in SPECIES}
REMOVAL_KINDS = ["http_404", "http_410", "deleted_page", "redirect_home"]
TITLES = ["老料手镯", "精品摆件", "雕刻吊坠", "收藏把件", "原料出售", "工艺品", "手串念珠", "印章文玩"]
BATCH = 20_000
N_SITES = 30
N_MONTHS = 36
FLAG_RATE = 0.15


def months(count: int, first: tuple[int, int] = (2023, 1)) -> list[str]:
    year, month = first
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


class Loader:
    """Inserts rows in batches and keeps count of rows and insert time per table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def insert(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        start, cpu = time.perf_counter(), time.process_time()
        with self.db.engine.begin() as conn:
            conn.execute(insert(model), rows)
        name = model.__tablename__
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
        self.rows[name] = self.rows.get(name, 0) + len(rows)


def generate(db: Database, scale: float, seed: int) -> Loader:
    rng = random.Random(seed)
    load = Loader(db)
    month_list = months(N_MONTHS)
    month_start = {m: datetime(int(m[:4]), int(m[5:]), 1) for m in month_list}
    n_listings = int(1_000_000 * scale)
    n_observations = int(5_000_000 * scale)
    n_dealers = max(10, int(20_000 * scale))
    created = datetime(2023, 1, 1)

    load.insert(Site, [{"id": i + 1, "name": f"site{i:02d}", "first_crawled_at": created} for i in range(N_SITES)])
    load.insert(CrawlRun, [{"id": i + 1, "kind": "monthly", "month": m, "started_at": month_start[m] + timedelta(days=27),
                            "finished_at": month_start[m] + timedelta(days=27, hours=3)} for i, m in enumerate(month_list)])
    health = {"pages": 120, "items": 900, "errors": {"http_500": 2}, "finish_reason": "finished", "duration_s": 640.0,
              "coverage": {"price": 0.97, "date": 0.9, "contact": 0.6, "location": 0.8}, "healthy": True, "problems": []}
    load.insert(SiteCrawl, [
        {"run_id": r + 1, "site_id": s + 1, "month": m, "started_at": month_start[m] + timedelta(days=27),
         "finished_at": month_start[m] + timedelta(days=27, hours=2), "status": "finished", "items": 900,
         "new_listings": 800, "removed_listings": 100, "health": health}
        for r, m in enumerate(month_list) for s in range(N_SITES)
    ])
    load.insert(Dealer, [{"id": d + 1, "created_at": created} for d in range(n_dealers)])
    contacts = []
    for d in range(n_dealers):
        contacts.append({"id": 2 * d + 1, "kind": "phone", "value": f"13{d:09d}", "dealer_id": d + 1, "first_seen": created})
        contacts.append({"id": 2 * d + 2, "kind": "wechat", "value": f"dealer_{d}", "dealer_id": d + 1, "first_seen": created})
    for chunk in range(0, len(contacts), BATCH):
        load.insert(Contact, contacts[chunk:chunk + BATCH])

    per_month = n_listings // N_MONTHS
    obs_per_listing = n_observations / n_listings
    listing_id = 0
    obs_budget = 0.0
    listings, observations, species_rows, match_rows, link_rows = [], [], [], [], []
    flagged_by_site_month: dict[tuple[int, str], list[int]] = {}

    def flush(final: bool = False) -> None:
        if not final and len(listings) < BATCH and len(observations) < BATCH:
            return
        for model, rows in ((Listing, listings), (Observation, observations), (ListingSpecies, species_rows),
                            (Match, match_rows), (ListingContact, link_rows)):
            load.insert(model, rows)
            rows.clear()

    for month_index, month in enumerate(month_list):
        base = month_start[month]
        for _ in range(per_month):
            listing_id += 1
            site_id = listing_id % N_SITES + 1
            first_seen = base + timedelta(days=rng.randrange(28), hours=rng.randrange(24))
            flagged = rng.random() < FLAG_RATE
            kinds = rng.sample(SPECIES, 2 if rng.random() < 0.1 else 1) if flagged else []
            dealer = int(n_dealers * rng.random() ** 3) + 1 if flagged and rng.random() < 0.7 else None
            lifetime = rng.randrange(1, 12)
            removed_index = month_index + lifetime if flagged and rng.random() < 0.5 else None
            if removed_index is not None and removed_index >= N_MONTHS:
                removed_index = None
            removed_at = month_start[month_list[removed_index]] + timedelta(days=27) if removed_index is not None else None
            fp = rng.getrandbits(64) - (1 << 63) if flagged else None
            b = bands(fp) if flagged else (None, None, None, None)
            last_index = removed_index if removed_index is not None else min(N_MONTHS - 1, month_index + lifetime)
            listings.append({
                "id": listing_id, "site_id": site_id, "external_id": str(listing_id),
                "url": f"https://site{site_id - 1:02d}.example/item/{listing_id}.html",
                "title": f"{rng.choice(TITLES)} {listing_id}", "description": "描述文字 " * 6,
                "price_text": f"¥{rng.randrange(50, 50000)}", "price_cny": float(rng.randrange(50, 50000)),
                "price_amount": None, "price_currency": "CNY", "location": "广东", "seller": f"seller{listing_id % 5000}",
                "posted_at": first_seen - timedelta(days=2), "first_seen": first_seen, "first_seen_month": month,
                "last_seen": month_start[month_list[last_index]] + timedelta(days=27),
                "removed_at": removed_at, "removed_month": month_list[removed_index] if removed_index is not None else None,
                "removal_kind": rng.choice(REMOVAL_KINDS) if removed_index is not None else None,
                "flagged": flagged, "species": kinds, "score": rng.random() if flagged else 0.0,
                "lexicon_version": "bench", "fingerprint": fp, "fp_band0": b[0], "fp_band1": b[1], "fp_band2": b[2],
                "fp_band3": b[3], "repost_of": None, "dealer_id": dealer, "evidence_sha256": None,
            })
            obs_budget += obs_per_listing
            for k in range(int(obs_budget)):
                index = min(month_index + k, N_MONTHS - 1)
                observations.append({
                    "listing_id": listing_id, "site_crawl_id": index * N_SITES + site_id,
                    "observed_at": month_start[month_list[index]] + timedelta(days=27),
                    "status": "removed" if removed_index is not None and index >= removed_index else "live",
                    "price_cny": None, "changes": None,
                })
            obs_budget -= int(obs_budget)
            if flagged:
                flagged_by_site_month.setdefault((site_id, month), []).append(listing_id)
                for kind in kinds:
                    species_rows.append({"listing_id": listing_id, "species": kind, "site_id": site_id,
                                         "first_seen_month": month})
                    term = rng.choice(TERMS[kind])
                    match_rows.append({"listing_id": listing_id, "species": kind, "term": term, "kind": "term",
                                       "field": "title", "start_offset": 0, "end_offset": len(term), "text": term,
                                       "trick": "", "score": 0.9, "lexicon_version": "bench"})
                if dealer is not None:
                    link_rows.append({"listing_id": listing_id, "contact_id": 2 * (dealer - 1) + 1 + rng.randrange(2),
                                      "raw": "..."})
            flush()
    flush(final=True)

    requests, items, reviews = [], [], []
    request_id = 0
    for (site_id, month), ids in sorted(flagged_by_site_month.items()):
        if site_id % 3:
            continue
        request_id += 1
        requests.append({"id": request_id, "site_id": site_id, "month": month,
                         "sent_at": month_start[month] + timedelta(days=28), "platform_contact": "bench",
                         "created_at": month_start[month] + timedelta(days=28)})
        items.extend({"request_id": request_id, "listing_id": lid, "removed_at": None, "removal_kind": None} for lid in ids)
        reviews.extend({"listing_id": lid, "decision": rng.choice(["confirmed", "rejected"]), "reviewer": "bench",
                        "note": "", "decided_at": month_start[month] + timedelta(days=29), "current": True}
                       for lid in ids[:: 10])
    for model, rows in ((TakedownRequest, requests), (TakedownItem, items), (ReviewDecision, reviews)):
        for chunk in range(0, len(rows), BATCH):
            load.insert(model, rows[chunk:chunk + BATCH])
    return load


def listing_count(path: Path) -> int:
    """Listings in the SQLite file at ``path``; -1 when it holds no listings table."""
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    except sqlite3.Error:
        return -1


def fill_database(path: Path, listings: int, keep: bool = False) -> bool:
    """The generator's database of ``listings`` listings at ``path``, through the migrations;
    kept as it is when ``keep`` and it is that large already. True when it was written anew."""
    if keep and listing_count(path) >= 0.99 * listings:  # the generator spreads listings evenly: a few less
        return False
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    generate(db, listings / 1_000_000, seed=7)
    db.dispose()
    print(f"filled {listing_count(path):,} listings in {time.perf_counter() - started:.1f} s ({path})")
    return True


def time_queries(db: Database, month: str, as_of: str | None = None) -> list[tuple[str, float, float]]:
    """Each report query for ``month`` twice; ``as_of``: the figures as known at the end of that
    month (its snapshot), else as they stand now."""
    calls = [
        ("new_flagged_by_species", lambda s: stats.new_flagged_by_species(s, month)),
        ("new_flagged_by_site", lambda s: stats.new_flagged_by_site(s, month)),
        ("new_flagged_by_site_species", lambda s: stats.new_flagged_by_site_species(s, month)),
        ("new_flagged_summary", lambda s: stats.new_flagged_summary(s, month)),
        ("monthly_trend", lambda s: stats.monthly_trend(s)),
        ("removals", lambda s: stats.removals(s, month)),
        ("takedown_outcomes", lambda s: stats.takedown_outcomes(s, month)),
        ("top_dealers", lambda s: stats.top_dealers(s, month, limit=20)),
        ("term_hits", lambda s: stats.term_hits(s, month)),
        ("example_ads", lambda s: stats.example_ads(s, month, limit=30)),
        ("crawl_health", lambda s: stats.crawl_health(s, month)),
        ("review_counts", lambda s: stats.review_counts(s, month)),
        ("months_with_data", lambda s: stats.months_with_data(s)),
        ("monthly_totals", lambda s: stats.monthly_totals(s)),
        ("sites_not_crawled", lambda s: stats.sites_not_crawled(s, month)),
        ("listings_to_revisit", None),
    ]
    results = []
    for name, call in calls:
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            if call is None:
                db.listings_to_revisit("site07", flagged_only=True)
            else:
                with db.session() as s:
                    if as_of is not None:
                        s.info[AS_OF_KEY] = as_of
                    call(s)
            timings.append(time.perf_counter() - start)
        results.append((name, timings[0], timings[1]))
    return results


def recorder_throughput(folder: Path, count: int, seed: int) -> tuple[float, float]:
    """Listings/s through CrawlRecorder (contacts, dealers, fingerprints, matches, evidence),
    first crawl and a recrawl of the same listings a month later."""
    from monitor.items import ListingItem
    from monitor.storage import CrawlRecorder

    rng = random.Random(seed)
    db = Database(f"sqlite:///{folder / 'recorder.sqlite3'}", evidence_dir=folder / "evidence")
    db.upgrade()
    items = []
    for n in range(count):
        flagged = rng.random() < FLAG_RATE
        items.append((ListingItem(
            site="site00", external_id=str(n), url=f"https://site00.example/item/{n}.html",
            title=f"{rng.choice(TITLES)} 象牙 {n}", description=f"老料 包浆 {rng.choice(TITLES)} 尺寸 {n % 97} 厘米 " * 3,
            contact_text=f"电话 13{rng.randrange(10**9):09d} 微信 dealer_{rng.randrange(2000)}",
            price_text="¥1200", price_cny=1200.0, raw_body=b"<html>" + str(n).encode() * 200 + b"</html>",
        ), flagged))
    rates = []
    for month, day in (("2025-05", 28), ("2025-06", 28)):
        run = db.start_run("monthly", datetime(int(month[:4]), int(month[5:]), day), month)
        start = time.perf_counter()
        with CrawlRecorder(db, run_id=run, site="site00", observed_at=datetime(int(month[:4]), int(month[5:]), day)) as rec:
            for listing, flagged in items:
                rec.add(listing, matches=[{"term": "象牙", "species": "ivory", "kind": "term", "field": "title",
                                           "start": 5, "end": 7, "text": "象牙", "trick": ""}] if flagged else [],
                        lexicon_version="bench", flagged=flagged, species=["ivory"] if flagged else [],
                        score=0.9 if flagged else 0.0, evidence=listing.raw_body if flagged else None)
        rates.append(count / (time.perf_counter() - start))
    db.dispose()
    return rates[0], rates[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0 = 1M listings, 5M observations)")
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file in a temporary folder)")
    parser.add_argument("--keep", metavar="FILE", help="SQLite file to create and keep (instead of a temporary one)")
    parser.add_argument("--seed", type=int, default=20120101)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="wtm-bench-") as folder:
        url = args.url or f"sqlite:///{Path(args.keep).resolve() if args.keep else Path(folder) / 'bench.sqlite3'}"
        db = Database(url, evidence_dir=Path(folder) / "evidence")
        db.upgrade()
        print(f"database: {db!r}   scale: {args.scale}")
        wall = time.perf_counter()
        load = generate(db, args.scale, args.seed)
        wall = time.perf_counter() - wall
        total_rows = sum(load.rows.values())
        total_insert = sum(load.seconds.values())
        total_cpu = sum(load.cpu.values())
        print("\nrows/s = rows per second of wall time spent in the inserts; per CPU s = per second of this")
        print("process's CPU time (closer to an idle machine's figure when other work shares the CPU)")
        print(f"\n{'table':22} {'rows':>10} {'insert s':>9} {'rows/s':>9} {'per CPU s':>10}")
        for name in sorted(load.rows, key=lambda n: -load.rows[n]):
            print(f"{name:22} {load.rows[name]:>10,} {load.seconds[name]:>9.1f} "
                  f"{load.rows[name] / load.seconds[name]:>9,.0f} {load.rows[name] / max(load.cpu[name], 1e-9):>10,.0f}")
        print(f"{'all tables':22} {total_rows:>10,} {total_insert:>9.1f} {total_rows / total_insert:>9,.0f} "
              f"{total_rows / max(total_cpu, 1e-9):>10,.0f}")
        print(f"including generating the rows in Python: {total_rows / wall:,.0f} rows/s over {wall:.1f} s")
        start = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"ANALYZE: {time.perf_counter() - start:.1f} s")

        month = months(N_MONTHS)[-1]
        middle = months(N_MONTHS)[N_MONTHS // 2]
        for snapshot_month in (month, middle):
            # What the monthly job writes when a month's crawl is done; every query reads it.
            start = time.perf_counter()
            with db.session() as s:
                snapshots.write(s, snapshot_month)
            print(f"month snapshot {snapshot_month}: {time.perf_counter() - start:.1f} s")
        print(f"\nreport queries for {month} (seconds; first run, second run):")
        worst = 0.0
        for name, cold, warm in time_queries(db, month):
            worst = max(worst, cold, warm)
            print(f"  {name:28} {cold:7.3f} {warm:7.3f}")
        print(f"\nreport queries for {middle}, as known at its end:")
        for name, cold, warm in time_queries(db, middle, as_of=middle):
            worst = max(worst, cold, warm)
            print(f"  {name:28} {cold:7.3f} {warm:7.3f}")
        n_items = max(1000, int(20_000 * args.scale))
        first, again = recorder_throughput(Path(folder), n_items, args.seed)
        print(f"\nCrawlRecorder (batches of 500, contacts, dealers, fingerprints, matches, evidence), {n_items:,} listings:"
              f"\n  first sight {first:,.0f} listings/s, recrawl {again:,.0f} listings/s")
        rate = total_rows / total_insert
        print(f"\ninsert: {rate:,.0f} rows/s (target >= 20,000): {'OK' if rate >= 20_000 else 'BELOW TARGET'}")
        print(f"slowest query: {worst:.3f} s (target < 2 s): {'OK' if worst < 2 else 'ABOVE TARGET'}")
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
