"""The workbench at 1,000,000 listings: review queue pages < 200 ms, search answers < 1 s.

    .venv/bin/python benchmarks/serve.py [--listings 1000000] [--db PATH] [--keep]

Fills an SQLite database (through the migrations) with benchmarks/storage.py's generator (30
sites, 36 months, 15 % flagged, observations, species rows, matches, dealers, takedowns, review
decisions for a tenth of the flags), gives the listings Chinese titles and descriptions with
the wildlife terms analysts search for, builds the search index with
``monitor.storage.search.refresh_index`` (timed: it is what the first ``wtm serve`` on such a
database does), then serves the workbench with uvicorn on 127.0.0.1 and times real HTTP
requests: each page once cold (first request after start) and the median of five warm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text

from monitor.storage import Database
from monitor.storage.search import refresh_index
from monitor.workbench import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from report import listing_count  # noqa: E402
from storage import generate  # noqa: E402
from test_workbench import Served  # noqa: E402

QUEUE_TARGET, SEARCH_TARGET = 0.2, 1.0
# Words the listings are made of: flagged ones get a species term, every one two fillers.
TERMS = ["象牙", "犀角", "玳瑁", "虎骨", "穿山甲鳞片", "盔犀鸟头骨", "羚羊角", "豹皮"]
FILLERS = ["老料", "手镯", "摆件", "吊坠", "精品", "包真", "可验货", "微信联系", "出售", "收藏", "雕刻", "原矿",
           "包邮", "回收", "把件", "念珠", "印章", "茶杯", "工艺品", "猛犸牙"]
QUEUE_PAGES = ["/", "/?site=site05", "/?species=ivory", "/?dealer=1", "/?site=site07&species=tiger", "/?reviewed=1"]
SEARCHES = ["象牙", "犀角", "虎骨", "穿山甲鳞片", "象牙 微信联系", "猛犸牙", "象", "盔犀鸟头骨 包真", "长颈鹿"]


def texts(db: Database) -> None:
    """Chinese titles and descriptions, varied by id (one UPDATE, SQLite's % and CASE)."""
    def pick(words: list[str], expr: str) -> str:
        cases = " ".join(f"WHEN {i} THEN '{w}'" for i, w in enumerate(words))
        return f"(CASE ({expr}) % {len(words)} {cases} END)"

    term = pick(TERMS, "id / 7")
    with db.engine.begin() as conn:
        conn.execute(text(
            f"UPDATE listings SET title = CASE WHEN flagged THEN {term} ELSE '' END || {pick(FILLERS, 'id / 3')} "
            f"|| {pick(FILLERS, 'id / 11')} || ' ' || id, "
            f"description = {pick(FILLERS, 'id / 13')} || ' ' || {pick(FILLERS, 'id / 17')} || ' ' "
            f"|| CASE WHEN id % 9 = 0 THEN {term} ELSE '' END || {pick(FILLERS, 'id / 19')}"))


def timed(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return time.perf_counter() - started, body.count(b'href="/listing/')


def measure(base: str, path: str) -> tuple[float, float, int]:
    cold, found = timed(base + path)
    warm = statistics.median(timed(base + path)[0] for _ in range(5))
    return cold, warm, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="reuse --db if it already holds --listings listings")
    args = parser.parse_args(argv)

    path = args.db or Path(tempfile.mkdtemp(prefix="wtm-serve-bench-")) / "wtm.sqlite3"
    if not (args.keep and listing_count(path) >= 0.99 * args.listings):
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        generate(db, args.listings / 1_000_000, seed=7)
        texts(db)
        db.dispose()
        print(f"filled {listing_count(path):,} listings in {time.perf_counter() - started:.1f} s ({path})")
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    started = time.perf_counter()
    indexed = refresh_index(db)
    with db.engine.connect() as conn:
        grams = conn.execute(text("SELECT count(*) FROM search_grams")).scalar()
    print(f"search index: {indexed:,} listings read in {time.perf_counter() - started:.1f} s, {grams:,} gram rows")
    count = listing_count(path)
    server = Served(create_app(db, analyst="bench"))
    missed = 0
    try:
        print(f"{count:,} listings; cold = first request, warm = median of 5; HTTP via uvicorn on 127.0.0.1")
        for label, paths, target in (("queue", QUEUE_PAGES, QUEUE_TARGET), ("search", SEARCHES, SEARCH_TARGET)):
            for path_ in paths:
                if label == "search":
                    path_ = "/search?q=" + urllib.parse.quote(path_)
                cold, warm, found = measure(server.base, path_)
                ok = cold < target and warm < target
                missed += not ok
                print(f"  {label:6} {urllib.parse.unquote(path_):34} cold {cold * 1000:7.1f} ms  warm {warm * 1000:7.1f} ms"
                      f"  {found:3} listings  (target < {target * 1000:.0f} ms: {'met' if ok else 'MISSED'})")
    finally:
        server.stop()
        db.dispose()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
