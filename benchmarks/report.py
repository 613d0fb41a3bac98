"""How long the monthly report takes on a large database (target: under 10 s at 1,000,000 listings).

    .venv/bin/python benchmarks/report.py [--listings 1000000] [--db PATH] [--keep]

Builds an SQLite database through the migrations, fills it in bulk (30 sites, 60 months,
a third of the listings flagged, with species rows, matches, contacts and dealers,
removals, takedown requests, reviews and crawl health), then times ``render_report`` for
the last month: the stats queries, the charts and the page. The fill writes rows with the
standard library's sqlite3 for speed; it is set-up, not what is measured. With ``--keep``
an existing database of the right size is reused.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from monitor.config import load_config
from monitor.months import months_between
from monitor.reports import build_context, render_html, render_report
from monitor.storage import Database

SITES = 30
MONTHS = months_between("2021-01", "2025-12")
FLAGGED_SHARE = 0.33
SPECIES = ["ivory"] * 40 + ["rhino_horn"] * 12 + ["hawksbill"] * 12 + ["hornbill"] * 6 + ["tiger"] * 10 + \
    ["saiga"] * 8 + ["pangolin"] * 8 + ["leopard"] * 4
TERMS = {"ivory": ["象牙", "牙雕", "白色金子", "猛犸象牙"], "rhino_horn": ["犀牛角", "犀角杯"], "hawksbill": ["玳瑁"],
         "hornbill": ["鹤顶红", "盔犀鸟"], "tiger": ["虎骨", "虎牙"], "saiga": ["羚羊角"], "pangolin": ["穿山甲片"],
         "leopard": ["豹皮"]}
HEALTH = {"pages": 120, "items": 3000, "errors": {"http_500": 2}, "finish_reason": "finished", "duration_s": 300.0,
          "coverage": {"price": 0.95, "date": 0.9, "contact": 0.7, "location": 0.8}, "healthy": True, "problems": []}
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def fill(path: Path, listings: int, seed: int = 7) -> None:
    """Write ``listings`` listings and what goes with them into the migrated database at ``path``."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = datetime(2026, 1, 2).strftime(STAMP)
    conn.executemany("INSERT INTO sites (id, name, first_crawled_at) VALUES (?, ?, ?)",
                     [(i, f"site{i:02d}", "2021-01-28 23:00:00.000000") for i in range(1, SITES + 1)])
    dealers = max(1, listings // 50)
    conn.executemany("INSERT INTO dealers (id, created_at) VALUES (?, ?)", [(i, now) for i in range(1, dealers + 1)])
    conn.executemany("INSERT INTO contacts (id, kind, value, dealer_id, first_seen) VALUES (?, 'phone', ?, ?, ?)",
                     [(i, f"139{i:08d}", i, now) for i in range(1, dealers + 1)])
    run_rows, crawl_rows = [], []
    for index, month in enumerate(MONTHS, 1):
        at = f"{month}-28 23:00:00.000000"
        run_rows.append((index, "monthly", month, at, at))
        for site in range(1, SITES + 1):
            health = dict(HEALTH, healthy=site != 7 or month != MONTHS[-1])
            crawl_rows.append((index, site, month, at, at, "finished", 3000, 100, 20, json.dumps(health)))
    conn.executemany("INSERT INTO crawl_runs (id, kind, month, started_at, finished_at) VALUES (?, ?, ?, ?, ?)", run_rows)
    conn.executemany("INSERT INTO site_crawls (run_id, site_id, month, started_at, finished_at, status, items, "
                     "new_listings, removed_listings, health) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", crawl_rows)

    per_month = listings // len(MONTHS)
    listing_id = 0
    batch: dict[str, list[tuple]] = {"l": [], "s": [], "m": [], "c": []}

    def flush() -> None:
        conn.executemany(
            "INSERT INTO listings (id, site_id, external_id, url, title, description, price_text, price_cny, "
            "price_amount, price_currency, location, seller, posted_at, first_seen, first_seen_month, last_seen, "
            "removed_at, removed_month, removal_kind, flagged, species, score, lexicon_version, dealer_id, "
            "evidence_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'CNY', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench', ?, ?)",
            batch["l"])
        conn.executemany("INSERT INTO listing_species (listing_id, species, site_id, first_seen_month) "
                         "VALUES (?, ?, ?, ?)", batch["s"])
        conn.executemany("INSERT INTO matches (listing_id, species, term, kind, field, start_offset, end_offset, "
                         "text, trick, score, lexicon_version) VALUES (?, ?, ?, 'term', 'title', 0, ?, ?, '', 1.0, "
                         "'bench')", batch["m"])
        conn.executemany("INSERT INTO listing_contacts (listing_id, contact_id, raw) VALUES (?, ?, ?)", batch["c"])
        for rows in batch.values():
            rows.clear()

    for month_index, month in enumerate(MONTHS):
        count = per_month if month_index < len(MONTHS) - 1 else listings - listing_id
        for _ in range(count):
            listing_id += 1
            site = rng.randint(1, SITES)
            seen = datetime.strptime(f"{month}-{rng.randint(1, 28):02d}", "%Y-%m-%d") + timedelta(hours=rng.randint(0, 23))
            flagged = rng.random() < FLAGGED_SHARE
            species = [rng.choice(SPECIES)] if flagged else []
            title = f"{TERMS[species[0]][0]}手镯 老料 包真 {listing_id}" if flagged else f"象牙白 油漆 {listing_id}"
            removed_at = removed_month = kind = None
            if flagged and rng.random() < 0.4:
                gone = seen + timedelta(days=rng.randint(20, 90))
                removed_at, removed_month, kind = gone.strftime(STAMP), gone.strftime("%Y-%m"), "http_404"
            dealer = rng.randint(1, dealers) if flagged else None
            batch["l"].append((
                listing_id, site, f"x{listing_id}", f"http://127.0.0.1:9/site{site:02d}/item/{listing_id}.html",
                title, "成色好 可验货 " * 8, "¥1200", 1200.0, 1200.0, "广州", "王先生", seen.strftime(STAMP),
                seen.strftime(STAMP), month, seen.strftime(STAMP), removed_at, removed_month, kind, flagged,
                json.dumps(species), rng.random() * 3 if flagged else 0.0, dealer, f"{listing_id:064x}"))
            if flagged:
                term = rng.choice(TERMS[species[0]])
                batch["s"].append((listing_id, species[0], site, month))
                batch["m"].append((listing_id, species[0], term, len(term), term))
                batch["c"].append((listing_id, dealer, f"139{dealer:08d}"))
            if len(batch["l"]) >= 20_000:
                flush()
    flush()
    # One takedown request per site for each of the last six months, 40 listings each.
    request_id = 0
    for month in MONTHS[-6:]:
        sent = f"{month}-28 23:30:00.000000"
        for site in range(1, SITES + 1):
            request_id += 1
            conn.execute("INSERT INTO takedown_requests (id, site_id, month, sent_at, platform_contact, created_at) "
                         "VALUES (?, ?, ?, ?, 'bench', ?)", (request_id, site, month, sent, sent))
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM listings WHERE site_id = ? AND first_seen_month = ? AND flagged = 1 LIMIT 40",
                (site, month))]
            conn.executemany("INSERT INTO takedown_items (request_id, listing_id, removed_at, removal_kind) "
                             "SELECT ?, id, removed_at, removal_kind FROM listings WHERE id = ?",
                             [(request_id, i) for i in ids])
    conn.execute("INSERT INTO review_decisions (listing_id, decision, reviewer, note, decided_at, current) "
                 "SELECT id, CASE WHEN id % 5 = 0 THEN 'rejected' ELSE 'confirmed' END, 'bench', '', ?, 1 "
                 "FROM listings WHERE flagged = 1 AND id % 97 = 0", (now,))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def listing_count(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    except sqlite3.Error:
        return -1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it already holds --listings listings")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="wtm-report-bench-"))
    path = args.db or folder / "wtm.sqlite3"
    if not (args.keep and listing_count(path) == args.listings):
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        db.dispose()
        fill(path, args.listings)
        print(f"filled {args.listings:,} listings in {time.perf_counter() - started:.1f} s ({path})")
    month = MONTHS[-1]
    config = load_config(None, {"data_dir": str(folder), "database_url": f"sqlite:///{path}"})

    started = time.perf_counter()
    out = render_report(config, month, folder / f"report-{month}.html")
    total = time.perf_counter() - started
    db = Database(f"sqlite:///{path}")
    started = time.perf_counter()
    context = build_context(db, month, "zh")
    queries = time.perf_counter() - started
    started = time.perf_counter()
    html = render_html(context)
    page = time.perf_counter() - started
    db.dispose()
    print(f"render_report, {args.listings:,} listings, month {month}: {total:.2f} s "
          f"(second run: stats queries {queries:.2f} s, charts and page {page:.2f} s; "
          f"{len(html) / 1024:.0f} KiB) -> {out}")
    print(f"target < 10 s: {'met' if total < 10 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
