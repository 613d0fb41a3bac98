"""End to end, as an analyst would judge it: of the illegal ads online on every simulated
marketplace when each monthly crawl ran, how many did the database flag? Two months of planned
crawls of every site (politeness off, the default request budget), checked against the
sandbox's truth: recall overall and by the seller's trick, and precision.
(benchmarks/recall.py measures the same over six months, with the time a real crawl takes.)"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer

SEED = 20120101
MIN_SAMPLE = 20  # a trick with fewer ads online says little about its share
# Two months put 30-60 ads of a trick online, so one miss moves its share by two or three points:
# here each trick must reach 0.85; the bar of 0.90 is measured over six months by
# benchmarks/recall.py. (What misses most is the matcher's: legal-cover wording that admits the
# real material, 水牛角片 ... 包老包真.)
TRICK_FLOOR = 0.85

pytestmark = pytest.mark.slow


def flagged(db_path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return set(db.execute("SELECT s.name, l.external_id FROM listings l JOIN sites s ON s.id = l.site_id "
                              "WHERE l.flagged"))


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict:
    world = Sandbox(seed=SEED)
    months = world.months[-2:]
    folder = tmp_path_factory.mktemp("recall")
    online: dict[str, list[dict]] = {}
    hits: dict[str, set[tuple[str, str]]] = {}
    illegal: dict[tuple[str, str], bool] = {}
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(overrides={"data_dir": str(folder), "sandbox_url": server.url, "log_level": "WARNING"},
                             environ={})
        for month in months:
            server.set_month(month)
            run_crawl(config, as_of=month_end(month, config.tz), progress=False, polite=False)
            truth = world.truth(month)
            illegal.update({(r["site"], r["external_id"]): bool(r["illegal"]) for r in truth})
            online[month] = [r for r in truth if r["illegal"] and r["state"] == "live"]
            hits[month] = flagged(folder / "wtm.sqlite3")
    return {"online": online, "hits": hits, "illegal": illegal, "flagged": flagged(folder / "wtm.sqlite3")}


def test_flags_95_percent_of_the_illegal_ads_online_and_most_of_every_trick(measured: dict) -> None:
    total, hit = 0, 0
    by_trick: dict[str, Counter] = defaultdict(Counter)
    missed: list[tuple[str, str, str]] = []
    for month, ads in measured["online"].items():
        for ad in ads:
            key = (ad["site"], ad["external_id"])
            ok = key in measured["hits"][month]
            total, hit = total + 1, hit + ok
            for trick in ad["tricks"] or ["plain"]:
                by_trick[trick]["total"] += 1
                by_trick[trick]["hit"] += ok
            if not ok:
                missed.append((month, *key))
    tricks = {trick: f"{c['hit']}/{c['total']}" for trick, c in sorted(by_trick.items())}
    assert total > 200
    assert hit / total >= 0.95, (hit, total, tricks, missed)
    for trick, count in by_trick.items():
        if count["total"] >= MIN_SAMPLE:
            assert count["hit"] / count["total"] >= TRICK_FLOOR, (trick, tricks, missed)


def test_flags_almost_nothing_legal(measured: dict) -> None:
    flags = measured["flagged"]
    wrong = [key for key in flags if not measured["illegal"].get(key, False)]
    assert flags and len(wrong) / len(flags) <= 0.02, wrong[:20]
