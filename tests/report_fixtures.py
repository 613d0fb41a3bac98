"""A small monitoring history written through the storage API, with known figures.

Three months, four sites: alpha and beta crawled every month; gamma crawled in the first two
months only (a coverage gap in the third); delta crawled in the third but unhealthy. One
listing in the third month carries hostile text in every field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from monitor.items import ListingItem
from monitor.storage import CrawlRecorder, Database

MONTHS = ["2025-01", "2025-02", "2025-03"]
HOSTILE_TITLE = '<script>alert("t")</script>象牙手镯 {{ 7*7 }} <img src=x onerror=alert(1)>'
HOSTILE_DESCRIPTION = ('老料象牙 <a href="javascript:alert(2)">点我</a> javascript:alert(3) '
                       '<svg onload=alert(4)></svg> {{ 7*7 }} {% raw %}')
HOSTILE_URL = "javascript:alert(5)"
HOSTILE_SELLER = '<b onmouseover="alert(6)">王{{ 7*7 }}</b>'
HOSTILE_TERM = '<script>象牙</script>'
HEALTHY = {"pages": 12, "items": 40, "errors": {}, "finish_reason": "finished", "duration_s": 3.5,
           "coverage": {"price": 0.9, "date": 1.0, "contact": 0.8, "location": 0.7}, "healthy": True, "problems": []}
UNHEALTHY = {"pages": 3, "items": 0, "errors": {"http_503": 9}, "finish_reason": "finished", "duration_s": 1.0,
             "coverage": {"price": 0.0, "date": 0.0, "contact": 0.0, "location": 0.0}, "healthy": False,
             "problems": ["every search page answered HTTP 503"]}

# (site, external_id, species or None for an unflagged listing) per month, new listings only.
PLAN: dict[str, list[tuple[str, str, list[str] | None]]] = {
    "2025-01": [("alpha", "a1", ["ivory"]), ("alpha", "a2", ["ivory"]), ("alpha", "a3", None),
                ("beta", "b1", ["tiger"]), ("gamma", "g1", ["pangolin"])],
    "2025-02": [("alpha", "a4", ["ivory"]), ("beta", "b2", ["tiger"]), ("beta", "b3", ["pangolin"]),
                ("gamma", "g2", ["ivory"])],
    "2025-03": [("alpha", "a5", ["ivory"]), ("alpha", "a6", ["ivory", "rhino_horn"]), ("alpha", "a7", ["ivory"]),
                ("beta", "b4", ["tiger"]), ("alpha", "evil", ["ivory"])],
}
# Removed when revisited in that month: (site, external_id, kind).
REMOVED = {"2025-03": [("alpha", "a1", "http_404"), ("beta", "b1", "deleted_page")]}

# What the report must say about 2025-03.
EXPECTED_SPECIES = {"ivory": 4, "rhino_horn": 1, "tiger": 1}
EXPECTED_SITES = {"alpha": 4, "beta": 1}
EXPECTED_TOTALS = {"2025-01": 4, "2025-02": 4, "2025-03": 5}


def _item(site: str, external_id: str, month: str, species: list[str] | None) -> tuple[ListingItem, list[dict]]:
    seen = datetime(int(month[:4]), int(month[5:]), 20, 10, 0)
    if external_id == "evil":
        item = ListingItem(site=site, external_id=external_id, url=HOSTILE_URL, title=HOSTILE_TITLE,
                           description=HOSTILE_DESCRIPTION, price_text="=HYPERLINK(\"http://x\")",
                           location="{{ 7*7 }}", seller=HOSTILE_SELLER, contact_text="电话 13912345678",
                           fetched_at=seen, contacts=[("phone", "13912345678")])
        start = HOSTILE_TITLE.index("象牙")
        return item, [{"term": HOSTILE_TERM, "species": "ivory", "kind": "term", "field": "title",
                       "start": start, "end": start + 2, "text": "象牙", "trick": ""}]
    title = f"{external_id} 象牙手镯 老料" if species else f"{external_id} 象牙白 油漆"
    item = ListingItem(site=site, external_id=external_id, url=f"http://127.0.0.1:9/{site}/item/{external_id}.html",
                       title=title, description="包真 可验货", price_text="¥1200", location="广州",
                       seller="王先生", contact_text=f"微信 dealer{external_id}", fetched_at=seen,
                       contacts=[("wechat", f"dealer{external_id}")])
    start = title.index("象牙")
    matches = [{"term": "象牙", "species": sp, "kind": "term", "field": "title", "start": start, "end": start + 2,
                "text": "象牙", "trick": ""} for sp in species or []]
    return item, matches


def fill(db: Database) -> None:
    """Record the three months of crawls described above into a fresh, upgraded ``db``."""
    for month in MONTHS:
        observed = datetime(int(month[:4]), int(month[5:]), 25, 23, 0)
        run_id = db.start_run(kind="monthly", started_at=observed, month=month)
        sites = ["alpha", "beta"] + (["gamma"] if month != "2025-03" else ["delta"])
        for site in sites:
            rec = CrawlRecorder(db, run_id=run_id, site=site, observed_at=observed)
            for plan_site, external_id, species in PLAN[month]:
                if plan_site != site:
                    continue
                item, matches = _item(site, external_id, month, species)
                rec.add(item, matches, lexicon_version="test", flagged=bool(species), species=species or [],
                        score=2.0 if external_id == "evil" else 1.0,
                        evidence=f"<html>{external_id}</html>".encode())
            for removed_site, external_id, kind in REMOVED.get(month, []):
                if removed_site == site:
                    rec.mark_removed(external_id, kind)
            rec.finish(UNHEALTHY if site == "delta" else HEALTHY)
        db.finish_run(run_id, observed)


def make_database(folder: Path) -> Database:
    db = Database(f"sqlite:///{folder / 'wtm.sqlite3'}", evidence_dir=folder / "evidence")
    db.upgrade()
    fill(db)
    return db


def assert_page_is_inert(tree) -> None:
    """No script, image, frame or event handler anywhere, and only http(s) or in-page links.

    ``tree`` is the page parsed by lxml.html. Only the charts' own SVGs may carry SVG markup.
    """
    assert tree.xpath("//script") == []
    assert tree.xpath("//img") == [] and tree.xpath("//iframe") == [] and tree.xpath("//object") == []
    assert tree.xpath("//main//b") == [] and tree.xpath("//main//a[not(@class='url')]") == []
    for svg in tree.xpath("//*[local-name()='svg']"):
        assert svg.getparent().tag == "figure"
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            assert "javascript:" not in value.lower(), (element.tag, name, value)
    for anchor in tree.xpath("//a[@href]"):
        assert anchor.get("href").startswith(("#", "http://", "https://")), anchor.get("href")
