"""Dealers and re-posts recovered from the sandbox's own listings, against its truth.

The simulated world knows which seller wrote each ad (``dealer_id``), writes their contacts
in the disguises real dealers use (spaced, dashed, Chinese numerals, full-width, upper case,
a digit missing) and re-posts some illegal ads under a new id with part of the text
(``repost_of``). Five months of every site go through CrawlRecorder as the crawl hands
them over; clusters and re-post links must match the truth.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pytest
from sqlalchemy import select

from monitor.items import ListingItem
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import Listing, Site


def pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    from monitor.sandbox import Sandbox

    world = Sandbox(seed=20120101)
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'wtm.sqlite3'}")
    db.upgrade()
    truth: dict[tuple[str, str], str] = {}
    reposts: dict[tuple[str, str], str | None] = {}
    for month in world.months[-5:]:
        seen = datetime(int(month[:4]), int(month[5:]), 28)
        by_site: dict[str, list[dict]] = defaultdict(list)
        for row in world.truth(month):
            by_site[row["site"]].append(row)
        run = db.start_run("monthly", seen, month)
        for site, rows in sorted(by_site.items()):
            with CrawlRecorder(db, run_id=run, site=site, observed_at=seen) as rec:
                for row in rows:
                    truth[(site, row["external_id"])] = row["dealer_id"]
                    reposts[(site, row["external_id"])] = row["repost_of"]
                    field = " ".join(c["written"] for c in row["contacts"] if c["where"] == "field")
                    rec.add(ListingItem(site=site, external_id=row["external_id"], url=row["url"], title=row["title"],
                                        description=row["description"], contact_text=field),
                            flagged=row["kind"] == "illegal")
    with db.session() as s:
        rows = s.execute(select(Site.name, Listing.external_id, Listing.id, Listing.dealer_id, Listing.repost_of).join(Site)).all()
    db.dispose()
    predicted = {(site, eid): dealer for site, eid, _, dealer, _ in rows}
    key_of = {lid: (site, eid) for site, eid, lid, _, _ in rows}
    linked = {(site, eid): key_of[origin][1] if origin else None for site, eid, _, _, origin in rows}
    return truth, predicted, {"truth": reposts, "linked": linked}


def test_dealer_clusters_match_the_truth(recorded: tuple[dict, dict, dict]) -> None:
    truth, predicted, _ = recorded
    assert predicted.keys() == truth.keys()
    both = pairs(Counter((truth[k], d) for k, d in predicted.items() if d is not None))
    precision = both / pairs(Counter(d for d in predicted.values() if d is not None))
    recall = both / pairs(Counter(truth.values()))
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall


def test_listings_with_contacts_get_a_dealer(recorded: tuple[dict, dict, dict]) -> None:
    _, predicted, _ = recorded
    assert sum(d is None for d in predicted.values()) <= 0.02 * len(predicted)


def test_reposts_are_linked_to_their_original(recorded: tuple[dict, dict, dict]) -> None:
    reposts = recorded[2]
    truth, linked = reposts["truth"], reposts["linked"]
    expected = {key: original for key, original in truth.items() if original and (key[0], original) in truth}
    assert len(expected) >= 20
    found = sum(linked[key] == original for key, original in expected.items())
    assert found >= 0.9 * len(expected), (found, len(expected))
    false_links = [key for key, origin in linked.items() if origin and key not in expected]
    assert len(false_links) <= 0.02 * len(expected), false_links
