"""Dealer clusters recovered from the sandbox's own listings, against its truth.

The simulated world knows which seller wrote each ad (``dealer_id``) and writes their
contacts in the disguises real dealers use (spaced, dashed, Chinese numerals, full-width,
upper case, a digit missing). Two months of every site go through CrawlRecorder exactly as
the crawl hands them over; the clusters must match the truth pairwise.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.items import ListingItem
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import Listing, Site


def pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    from monitor.sandbox import Sandbox

    world = Sandbox(seed=20120101)
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'wtm.sqlite3'}")
    db.upgrade()
    truth: dict[tuple[str, str], str] = {}
    for month in world.months[-2:]:
        seen = datetime(int(month[:4]), int(month[5:]), 28)
        by_site: dict[str, list[dict]] = defaultdict(list)
        for row in world.truth(month):
            by_site[row["site"]].append(row)
        run = db.start_run("monthly", seen, month)
        for site, rows in sorted(by_site.items()):
            with CrawlRecorder(db, run_id=run, site=site, observed_at=seen) as rec:
                for row in rows:
                    truth[(site, row["external_id"])] = row["dealer_id"]
                    field = " ".join(c["written"] for c in row["contacts"] if c["where"] == "field")
                    rec.add(ListingItem(site=site, external_id=row["external_id"], url=row["url"], title=row["title"],
                                        description=row["description"], contact_text=field),
                            flagged=row["kind"] == "illegal")
    with db.session() as s:
        predicted = {(site, eid): dealer for site, eid, dealer in
                     s.execute(select(Site.name, Listing.external_id, Listing.dealer_id).join(Site))}
    db.dispose()
    return truth, predicted


def test_dealer_clusters_match_the_truth(recorded: tuple[dict, dict]) -> None:
    truth, predicted = recorded
    assert predicted.keys() == truth.keys()
    both = pairs(Counter((truth[k], d) for k, d in predicted.items() if d is not None))
    precision = both / pairs(Counter(d for d in predicted.values() if d is not None))
    recall = both / pairs(Counter(truth.values()))
    assert precision >= 0.98, precision
    assert recall >= 0.95, recall


def test_listings_with_contacts_get_a_dealer(recorded: tuple[dict, dict]) -> None:
    _, predicted = recorded
    assert sum(d is None for d in predicted.values()) <= 0.02 * len(predicted)
