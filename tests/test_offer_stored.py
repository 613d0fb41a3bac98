"""What a flag offers (product form, quantity, buying or selling) is stored with the verdict:
by the recorder on a real SQLite file with the real matcher, and by a real crawl of the sandbox."""

from __future__ import annotations

import calendar
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.crawling import run_crawl
from monitor.crawling.pipelines import shared_matcher
from monitor.items import ListingItem
from monitor.matching import Lexicon, Matcher
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import CrawlRecorder, Database

SITES = ["huaxiacang", "huishouwa", "wenwanba", "xianzhi", "panjiayuan"]
KEYWORDS = ["象牙", "手镯", "收购", "穿山甲"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


def _record(db: Database, matcher: Matcher, month: str, ads: dict[str, tuple[str, str]]) -> None:
    seen = datetime(int(month[:4]), int(month[5:]), 20, 10, 0)
    rec = CrawlRecorder(db, run_id=db.start_run("monthly", seen, month), site="alpha", observed_at=seen)
    for external_id, (title, description) in ads.items():
        result = matcher.match({"title": title, "description": description})
        verdict = result.to_dict()
        rec.add(ListingItem(site="alpha", external_id=external_id, url=f"http://127.0.0.1:9/alpha/{external_id}",
                            title=title, description=description, fetched_at=seen),
                matches=verdict["matches"], lexicon_version="test", flagged=result.flagged,
                species=result.species, score=result.score,
                offer={k: verdict.get(k) for k in ("form", "quantity", "intent")} if result.flagged else None)
    rec.finish({"pages": 1, "items": len(ads), "healthy": True})


def _stored(db_path: Path) -> dict[str, tuple]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT external_id, flagged, offer_form, offer_quantity, intent FROM listings").fetchall()
    return {eid: (bool(flagged), form, quantity, intent) for eid, flagged, form, quantity, intent in rows}


def test_the_recorder_stores_the_matchers_offer_and_clears_it_when_the_flag_goes(tmp_path: Path, matcher: Matcher) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wtm.sqlite3'}")
    db.upgrade()
    ads = {
        "sell": ("出售象牙原牙 2根", "老货 包真 可验货"),
        "buy": ("高价收购象牙手镯", "长期求购老象牙手镯 微信联系"),
        "grams": ("穿山甲片 半斤", "正品鳞片 出售"),
        "paint": ("象牙白 油漆", "家装 环保"),
    }
    _record(db, matcher, "2025-06", ads)
    stored = _stored(tmp_path / "wtm.sqlite3")
    assert stored["sell"][0] and stored["sell"][1] == "raw_tusk" and stored["sell"][3] == "sell"
    assert '"amount": 2' in stored["sell"][2] and '"unit": "piece"' in stored["sell"][2]
    assert stored["buy"][0] and stored["buy"][1] == "worked" and stored["buy"][3] == "buy"
    assert stored["grams"][0] and stored["grams"][1] == "scale"
    assert '"amount": 250' in stored["grams"][2] and '"unit": "gram"' in stored["grams"][2]
    assert stored["paint"] == (False, None, None, None)

    # Revisited next month with the flag gone (an edited ad): the offer goes with it.
    _record(db, matcher, "2025-07", {"sell": ("原木茶几 2张", "实木 家具"), "buy": ads["buy"]})
    stored = _stored(tmp_path / "wtm.sqlite3")
    assert stored["sell"] == (False, None, None, None)
    assert stored["buy"][1:] == ("worked", None, "buy")
    db.dispose()


def month_end(month: str, tz) -> datetime:
    year, mon = int(month[:4]), int(month[5:7])
    return datetime(year, mon, calendar.monthrange(year, mon)[1], 20, 0, tzinfo=tz)


def test_a_crawl_of_the_sandbox_stores_each_flags_offer_as_the_matcher_reads_it(tmp_path: Path) -> None:
    world = Sandbox(seed=20120101)
    month = world.months[-1]
    with SandboxServer(world, port=0, month=month) as server:
        config = load_config(overrides={"data_dir": str(tmp_path), "sandbox_url": server.url})
        summary = run_crawl(config, sites=SITES, keywords=KEYWORDS, as_of=month_end(month, config.tz),
                            progress=False, polite=False)
    assert set(summary.sites) == set(SITES) and all(h.healthy for h in summary.sites.values()), summary.sites
    _, crawl_matcher = shared_matcher(config.keywords_dir or None, config.data_path)
    with sqlite3.connect(tmp_path / "wtm.sqlite3") as conn:
        rows = conn.execute("SELECT title, description, flagged, unread, offer_form, offer_quantity, intent "
                            "FROM listings").fetchall()
    flagged = [r for r in rows if r[2]]
    assert len(flagged) >= 15, len(flagged)
    for title, description, is_flagged, unread, form, quantity, intent in rows:
        if not is_flagged:
            assert (form, quantity, intent) == (None, None, None), title
            continue
        result = crawl_matcher.match({"title": title or "", "description": description or ""})
        assert result.flagged, title
        assert form == result.form, title
        assert (json.loads(quantity) if quantity else None) == result.quantity, title
        assert intent == result.intent, title
    assert sum(1 for r in flagged if r[4]) >= len(flagged) // 2
    assert any(r[5] for r in flagged)
    assert all(r[6] in ("sell", "buy") for r in flagged)
