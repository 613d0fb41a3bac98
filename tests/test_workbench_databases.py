"""The workbench's storage side on both databases (SQLite here; PostgreSQL where
WTM_TEST_POSTGRES_URL names a server): search by bigrams with one- and two-character terms and
edited text, decisions and undo, the unflagged sample, and the queue page over real HTTP."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime

from sqlalchemy import select

from monitor.items import ListingItem
from monitor.storage import CrawlRecorder
from monitor.storage.models import Listing, ReviewDecision
from monitor.storage.review import record_decision, undo_decision, unflagged_sample
from monitor.storage.search import refresh_index, search
from monitor.workbench import create_app
from test_workbench import Served

TEXTS = {"a": ("老料象牙手镯", "包真"), "b": ("犀角杯", "可验货 象牙白"), "c": ("茶杯", "紫砂"), "d": ("Ivory 象", "")}


def record(db, month: str, texts: dict[str, tuple[str, str]], flagged: set[str]) -> dict[str, int]:
    observed = datetime(int(month[:4]), int(month[5:]), 20, 9, 0)
    run_id = db.start_run(kind="monthly", started_at=observed, month=month)
    rec = CrawlRecorder(db, run_id=run_id, site="huaxia", observed_at=observed)
    for external_id, (title, description) in texts.items():
        rec.add(ListingItem(site="huaxia", external_id=external_id, url=f"http://127.0.0.1:9/{external_id}",
                            title=title, description=description, fetched_at=observed),
                flagged=external_id in flagged, species=["ivory"] if external_id in flagged else [], score=1.0)
    rec.finish()
    db.finish_run(run_id, observed)
    with db.session() as s:
        return dict(s.execute(select(Listing.external_id, Listing.id)).all())


def test_search_decisions_and_sample_on_each_database(db) -> None:
    ids = record(db, "2025-03", TEXTS, flagged={"a", "b"})
    assert refresh_index(db) == 4 and refresh_index(db) == 0

    def found(query: str) -> set[str]:
        by_id = {v: k for k, v in ids.items()}
        return {by_id[r["listing_id"]] for r in search(db, query)}

    assert found("象牙") == {"a", "b"} and found("犀角") == {"b"} and found("象") == {"a", "b", "d"}
    assert found("ivory") == {"d"} and found("象牙 包真") == {"a"} and found("猛犸") == set()
    record(db, "2025-04", {"a": ("老料猛犸牙手镯", "包真")}, flagged={"a"})
    refresh_index(db)
    assert found("象牙") == {"b"} and found("猛犸") == {"a"}

    record_decision(db, ids["a"], "confirmed", "li", "note")
    record_decision(db, ids["a"], "rejected", "wang")
    assert undo_decision(db, ids["a"]) == "confirmed"
    with db.session() as s:
        current = s.execute(select(ReviewDecision.decision, ReviewDecision.reviewer)
                            .where(ReviewDecision.current.is_(True))).all()
    assert current == [("confirmed", "li")]
    assert sorted(unflagged_sample(db, "2025-03")) == sorted([ids["c"], ids["d"]])

    server = Served(create_app(db, analyst="li"))
    try:
        with urllib.request.urlopen(server.base + "/", timeout=20) as response:
            page = response.read().decode()
        assert f'data-listing="{ids["b"]}"' in page and f'data-listing="{ids["a"]}"' not in page
        with urllib.request.urlopen(server.base + "/search?q=" + urllib.request.quote("犀角"), timeout=20) as response:
            assert f'/listing/{ids["b"]}' in response.read().decode()
    finally:
        server.stop()
    assert json.dumps(found("象"), default=list)
