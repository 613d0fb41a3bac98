"""Dealers' supply by product form, on a hand-built database: offers per form with their dealers
and the volume stated, a wanted (收购) ad counted apart, a rejected ad and last month's ad left
out; the report's section, its page in both languages and its export table."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.items import ListingItem
from monitor.reports import build_context, render_html
from monitor.reports.exports import tables
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import Listing
from monitor.storage.review import record_decision
from monitor.storage.supply import supply_by_form
from sqlalchemy import select

from storage_db import at, ivory

MONTH = "2025-06"

# external id -> (form, quantity, intent, contact); None form: a flag stored without one.
ADS = {
    "2025-05": {"m1": ("raw_tusk", {"amount": 4, "unit": "piece", "text": "4根"}, "sell", "13700000000")},
    MONTH: {
        "a1": ("raw_tusk", {"amount": 2, "unit": "piece", "text": "2根"}, "sell", "13912345678"),
        "a2": ("raw_tusk", {"amount": 3, "unit": "piece", "text": "三根"}, "sell", "13912345678"),
        "a3": ("worked", {"amount": 500, "unit": "gram", "text": "1斤"}, "sell", "13611112222"),
        "a4": (None, None, "sell", ""),
        "a5": ("worked", {"amount": 1, "unit": "set", "text": "一副"}, "buy", "13800000001"),
        "a6": ("raw_tusk", {"amount": 10, "unit": "piece", "text": "10根"}, "sell", "13912345678"),
    },
}


def crawl(db: Database, month: str) -> None:
    rec = CrawlRecorder(db, run_id=db.start_run("monthly", at(month), month), site="alpha", observed_at=at(month))
    for external_id, (form, quantity, intent, phone) in ADS[month].items():
        item = ListingItem(site="alpha", external_id=external_id, url=f"http://127.0.0.1:9/alpha/{external_id}",
                           title=f"象牙 {external_id}", contact_text=f"电话 {phone}" if phone else "",
                           contacts=[("phone", phone)] if phone else [], fetched_at=at(month))
        rec.add(item, matches=[ivory()], lexicon_version="v1", flagged=True, species=["ivory"], score=0.9,
                offer={"form": form, "quantity": quantity, "intent": intent})
    rec.add(ListingItem(site="alpha", external_id=f"u-{month}", url="http://127.0.0.1:9/alpha/u", title="象牙白 油漆",
                        fetched_at=at(month)))
    rec.finish({"pages": 1, "items": len(ADS[month]) + 1, "healthy": True})


@pytest.fixture()
def supply_db(db: Database) -> Database:
    for month in ADS:
        crawl(db, month)
    with db.session() as s:
        rejected = s.scalar(select(Listing.id).where(Listing.external_id == "a6"))
    record_decision(db, rejected, "rejected", "ana")
    return db


def test_offers_per_form_with_wanted_ads_apart_and_rejected_ads_left_out(supply_db: Database) -> None:
    with supply_db.session() as s:
        table = supply_by_form(s, MONTH)
    zeros = {"pieces": 0, "grams": 0, "sets": 0}
    assert table["sell"] == [
        {"intent": "sell", "form": "raw_tusk", "ads": 2, "dealers": 1, **zeros, "pieces": 5, "unstated": 0},
        {"intent": "sell", "form": "worked", "ads": 1, "dealers": 1, **zeros, "grams": 500, "unstated": 0},
        {"intent": "sell", "form": "unknown", "ads": 1, "dealers": 0, **zeros, "unstated": 1},
        {"intent": "sell", "form": "total", "ads": 4, "dealers": 2, "pieces": 5, "grams": 500, "sets": 0, "unstated": 1},
    ]
    assert table["buy"] == [
        {"intent": "buy", "form": "worked", "ads": 1, "dealers": 1, **zeros, "sets": 1, "unstated": 0},
        {"intent": "buy", "form": "total", "ads": 1, "dealers": 1, **zeros, "sets": 1, "unstated": 0},
    ]
    with supply_db.session() as s:
        assert supply_by_form(s, "2025-05")["sell"][0]["pieces"] == 4
        assert supply_by_form(s, "2025-05")["buy"] == []


def test_the_report_shows_the_supply_table_and_exports_it(supply_db: Database, tmp_path: Path) -> None:
    context = build_context(supply_db, MONTH, "en")
    assert [(r["name"], r["ads"]) for r in context["supply"]] == [
        ("Raw tusk", 2), ("Worked item", 1), ("Form not stated", 1), ("Total", 4)]
    assert [(r["name"], r["sets"]) for r in context["supply_wanted"]] == [("Worked item", 1), ("Total", 1)]
    page = render_html(context)
    assert "Dealers&#39; supply by product form" in page or "Dealers' supply by product form" in page
    assert "Wanted ads" in page and "Raw tusk" in page
    exported = tables(context)["supply"]
    assert [(r["intent"], r["form"], r["ads"]) for r in exported] == [
        ("sell", "raw_tusk", 2), ("sell", "worked", 1), ("sell", "unknown", 1), ("sell", "total", 4),
        ("buy", "worked", 1), ("buy", "total", 1)]
    zh = render_html(build_context(supply_db, MONTH, "zh"))
    assert "卖家货源（按制品形态）" in zh and "原牙（整支）" in zh and "收购、求购广告" in zh
