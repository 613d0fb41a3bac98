"""The report of a real crawl: three simulated marketplaces over three months, checked against
the sandbox's truth.

Scrapy crawls the sandbox over HTTP, the pipelines match and store into SQLite, takedown
requests are filed and told to the sandbox, and the report is built from the database alone.
Its figures are then checked against ``Sandbox.truth``: every ad it counts exists on that site
in that month and was new then, its species agree with the truth for real ads, removals and
their kinds are exactly the ones the sandbox carried out, takedown requests are the ones
filed. (How many illegal ads the matcher misses is the matcher's own test's business.)
"""

from __future__ import annotations

from collections import Counter

import lxml.html
import pytest

from monitor.config import load_config
from monitor.months import month_end
from monitor.reports import build_context, render_html

SITES = ["guwanjie", "xianzhi", "maoyitong"]  # Simplified sites: collectibles, C2C, B2B
SEED = 20120101
HOLD_OUT = 0.5  # share of flagged ads never requested: the takedown baseline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from monitor.crawling import run_crawl
    from monitor.sandbox import Sandbox, SandboxServer
    from monitor.storage import Database
    from monitor.storage.takedowns import record_demo_takedowns

    folder = tmp_path_factory.mktemp("report-sandbox")
    world = Sandbox(seed=SEED)
    months = world.months[-3:]
    filed: dict[str, Counter] = {}
    honoured: dict[str, Counter] = {}
    requested: dict[str, list[str]] = {}
    contexts: dict[str, dict] = {}
    with SandboxServer(world, port=0, month=months[0]) as server:
        config = load_config(None, {"data_dir": str(folder), "sandbox_url": server.url, "sites": SITES,
                                    "download_delay": 0.0, "autothrottle": False, "concurrency_per_site": 4})
        db = Database(config.db_url)
        db.upgrade()
        for month in months:
            server.set_month(month)
            as_of = month_end(month, config.tz)
            summary = run_crawl(config, as_of=as_of, progress=False, polite=False)
            assert not summary.failed_sites, summary.failed_sites
            urls = record_demo_takedowns(db, month, sent_at=as_of, hold_out=HOLD_OUT)
            outcome = world.request_takedown([url[len(server.url):] for url in urls], month)
            requested[month] = [url[len(server.url):] for url in urls]
            filed[month] = Counter(path.split("/")[1] for path in requested[month])
            honoured[month] = Counter(path.split("/")[1] for path, gone in outcome.items()
                                      if gone is not None and gone <= months[-1])
            contexts[month] = build_context(db, month, "zh")  # as the monthly job does, at the month's end
        db.dispose()
    return {"world": world, "months": months, "contexts": contexts, "filed": filed, "honoured": honoured,
            "requested": requested, "db_file": folder / "wtm.sqlite3"}


def observed(db_file, month: str) -> set[tuple[str, str]]:
    """(site, id) of every listing the crawl saw live in ``month``: what it could count."""
    import sqlite3

    with sqlite3.connect(db_file) as db:
        return set(db.execute(
            "SELECT s.name, l.external_id FROM observations o JOIN listings l ON l.id = o.listing_id "
            "JOIN sites s ON s.id = l.site_id WHERE o.status = 'live' AND strftime('%Y-%m', o.observed_at) = ?",
            (month,)))


def test_counts_are_new_ads_that_exist_in_the_truth(crawled: dict) -> None:
    world, months = crawled["world"], crawled["months"]
    seen: set[tuple[str, str]] = set()
    flagged_total = 0
    for month in months:
        context = crawled["contexts"][month]
        truth = {(r["site"], r["external_id"]): r for r in world.truth(month) if r["site"] in SITES}
        listed = {(site, eid) for site in SITES for eid in world.listed(site, month)}
        found = observed(crawled["db_file"], month)
        examples = context["examples"]
        total = context["key_points"]["total"]
        assert total < 30, "every counted ad is listed among the examples at this size"
        assert len(examples) == total
        by_site = {r["site"]: r["count"] for r in context["sites"] if r["count"]}
        assert by_site == dict(Counter(e["site"] for e in examples))
        by_species = {r["species"]: r["count"] for r in context["species"] if r["count"]}
        assert by_species == dict(Counter(sp for e in examples for sp in e["species_keys"]))
        illegal = 0
        for ad in examples:
            key = (ad["site"], ad["external_id"])
            assert key in truth, f"{month}: {key} is not on the site this month"
            assert key in listed, f"{month}: {key} is not listed on its site this month"
            assert key in found, f"{month}: {key} was not seen by this month's crawl"
            assert key not in seen, f"{month}: {key} was already found in an earlier month"
            if truth[key]["illegal"]:
                illegal += 1
                assert set(ad["species_keys"]) & set(truth[key]["species"]), (key, ad["species_keys"])
        assert illegal >= 0.8 * len(examples), f"{month}: {illegal} of {len(examples)} flagged ads are real"
        seen |= found
        flagged_total += total
    assert flagged_total >= 5, "the crawl found too little to test anything"
    last = crawled["contexts"][months[-1]]
    assert last["trend"]["months"] == months


def flagged_by_posting(crawled: dict) -> dict[str, list[tuple[str, str]]]:
    """The stored flagged listings by the month the truth says they were posted, and by the
    month the crawl first saw them (``seen:<month>``)."""
    import sqlite3

    world, months = crawled["world"], crawled["months"]
    posted = {(r["site"], r["external_id"]): r["first_month"] for m in months for r in world.truth(m)}
    out: dict[str, list[tuple[str, str]]] = {}
    with sqlite3.connect(crawled["db_file"]) as db:
        for site, eid, seen in db.execute("SELECT s.name, l.external_id, l.first_seen_month FROM listings l "
                                          "JOIN sites s ON s.id = l.site_id WHERE l.flagged"):
            out.setdefault(posted[(site, eid)], []).append((site, eid))
            out.setdefault(f"seen:{seen}", []).append((site, eid))
    return out


def test_new_is_the_posting_month_and_the_first_months_older_ads_are_backlog(crawled: dict) -> None:
    world, months = crawled["world"], crawled["months"]
    by_month = flagged_by_posting(crawled)
    first = crawled["contexts"][months[0]]
    found_first = by_month[f"seen:{months[0]}"]
    truth_first = {(r["site"], r["external_id"]): r["first_month"] for r in world.truth(months[0])}
    older = [key for key in found_first if truth_first[key] < months[0]]
    assert older, "the first month found no ad posted before monitoring, so nothing was checked"
    assert first["key_points"]["backlog"] == len(older)
    assert first["key_points"]["total"] == len(found_first) - len(older)
    assert {b["site"]: b["listings"] for b in first["key_points"]["backlog_sites"]} == dict(Counter(k[0] for k in older))
    posted = {key: m for m, keys in by_month.items() if not m.startswith("seen:") for key in keys}
    for month in months:
        context = crawled["contexts"][month]
        posted_then = {key for key in by_month.get(month, [])}
        assert {(e["site"], e["external_id"]) for e in context["examples"]} <= posted_then, month
        # Found later but posted before monitoring began (the crawl missed them then): backlog too.
        old = [key for key in by_month.get(f"seen:{month}", []) if posted[key] < months[0]]
        assert context["key_points"]["backlog"] == len(old), month
    # Regenerated after the last crawl, each month counts every flagged ad the truth says was posted
    # in it (late finds included), and the first month has no change against the month before it.
    last = crawled["contexts"][months[-1]]
    assert last["trend"]["total"] == [len(by_month.get(m, [])) for m in months]
    assert last["trend"]["change"][0] is None and first["key_points"]["change_previous"] is None


def test_removals_are_the_ones_the_sandbox_made(crawled: dict) -> None:
    world, months = crawled["world"], crawled["months"]
    flagged: dict[tuple[str, str], str] = {}
    removed_any = 0
    for month in months:
        context = crawled["contexts"][month]
        truth = {(r["site"], r["external_id"]): r for r in world.truth(month) if r["site"] in SITES}
        expected: dict[str, Counter] = {}
        for key, first in flagged.items():
            row = truth.get(key)
            if row is not None and row["removed_month"] == month:
                expected.setdefault(key[0], Counter())[row["removal_kind"]] += 1
        got = {r["site"]: Counter(r["by_kind"]) for r in context["removals"] if r["removed"]}
        assert got == expected, month
        removed_any += sum(sum(c.values()) for c in got.values())
        flagged.update({key: month for key in flagged_by_posting(crawled).get(f"seen:{month}", [])})
    assert removed_any > 0, "no removal happened, so nothing was checked"


def test_takedown_requests_and_page(crawled: dict) -> None:
    months = crawled["months"]
    for month in months:
        history = {h["month"]: h for h in crawled["contexts"][month]["takedown_history"]}
        assert history[month]["requested"] == sum(crawled["filed"][month].values())
    first = crawled["contexts"][months[-1]]
    assert first["key_points"]["takedown_month"] == months[0]
    assert {r["site"]: r["requested"] for r in first["takedowns"]} == dict(crawled["filed"][months[0]])
    # Every request the sandbox carried out within the crawled months shows as removed within
    # 60 days (other listings may vanish on their own too, so at least that many).
    removed_60 = {r["site"]: r["removed_60"] for r in first["takedowns"]}
    honoured = crawled["honoured"][months[0]]
    assert sum(honoured.values()) > 0
    for site, count in honoured.items():
        assert removed_60[site] >= count, site
    # Exactly: the requested listings the truth shows gone by the last crawl (the 60-day window
    # with the storage's cadence slack covers two monthly crawls).
    world = crawled["world"]
    gone = {r["url"] for m in months[1:] for r in world.truth(m) if r["removed_month"] == m}
    expected = Counter(path.split("/")[1] for path in crawled["requested"][months[0]] if path in gone)
    assert {site: n for site, n in removed_60.items() if n} == dict(expected)
    tree = lxml.html.fromstring(render_html(first))
    assert len(tree.xpath("//figure//*[local-name()='svg']")) == 2
    shown_sites = {th.text for th in tree.xpath('//section[@id="health"]//tbody/tr/th')}
    assert shown_sites == set(SITES)


def test_takedown_windows_baseline_and_intervals_against_the_truth(crawled: dict) -> None:
    """As of the last month: this month's requests are pending, last month's have a 30-day
    outcome only, the first month's both; the baseline is the never-requested ads' own removals."""
    import sqlite3

    from monitor.storage import Database, stats
    from monitor.storage.takedowns import held_out

    world, months = crawled["world"], crawled["months"]
    last = crawled["contexts"][months[-1]]
    history = {h["month"]: h for h in last["takedown_history"]}
    assert history[months[2]]["pending_30"] and history[months[2]]["pending_60"]
    assert history[months[2]]["share_30"] is None and history[months[2]]["share_60"] is None
    assert not history[months[1]]["pending_30"] and history[months[1]]["pending_60"]
    assert history[months[1]]["share_60"] is None and history[months[1]]["share_30"] is not None
    assert not history[months[0]]["pending_60"] and history[months[0]]["share_60"] is not None
    assert last["key_points"]["takedown_month"] == months[0] and not last["key_points"]["takedown_pending"]

    removed_in = {}
    for m in months:
        removed_in.update({(r["site"], r["external_id"]): m for r in world.truth(m) if r["removed_month"] == m})
    with sqlite3.connect(crawled["db_file"]) as con:
        stored = con.execute("SELECT s.name, l.external_id, l.first_seen_month FROM listings l JOIN sites s "
                             "ON s.id = l.site_id WHERE l.flagged").fetchall()
    # The baseline: flagged ads never requested, online when the first month's requests went out.
    baseline: dict[str, list[tuple[str, str]]] = {}
    for site, eid, seen in stored:
        gone = removed_in.get((site, eid))
        if held_out(site, eid, HOLD_OUT) and seen <= months[0] and (gone is None or gone > months[0]):
            baseline.setdefault(site, []).append((site, eid))
    requested = {(item.site, item.external_id) for item in map(world.listing_by_url, crawled["requested"][months[0]])}
    db = Database(f"sqlite:///{crawled['db_file']}")
    try:
        with db.session() as s:
            cohorts = {r["site"]: r for r in stats.takedown_cohorts(s, months[0], months[-1])}
            repeats = {r["site"]: r["listings"] for r in stats.repeat_unremoved(s, months[-1])}
    finally:
        db.dispose()
    assert sum(len(v) for v in baseline.values()) > 0, "no baseline ads, so nothing was checked"
    for site, row in cohorts.items():
        ads = baseline.get(site, [])
        assert row["baseline_ads"] == len(ads), site
        assert row["baseline_removed_60"] == sum(removed_in.get(k) in months[1:] for k in ads), site
        assert row["baseline_removed_30"] == sum(removed_in.get(k) == months[1] for k in ads), site
        # Crawl intervals from the request to the crawl that saw the ad gone: 1 or 2 monthly crawls.
        site_requested = [k for k in requested if k[0] == site]
        expected = Counter({1: sum(removed_in.get(k) == months[1] for k in site_requested),
                            2: sum(removed_in.get(k) == months[2] for k in site_requested)})
        assert row["intervals"] == {n: c for n, c in expected.items() if c}, site
    focus = last["takedown_totals"]
    assert focus["difference_60"] == round(focus["share_60"] - focus["baseline_60"], 4)
    # Requested in two or more months and still online at the end of the last one.
    times = Counter(p for m in months for p in crawled["requested"][m])
    still = {r["url"] for r in world.truth(months[-1]) if r["state"] == "live"}
    expected_repeats = Counter(p.split("/")[1] for p, n in times.items() if n >= 2 and p in still)
    assert repeats == dict(expected_repeats)
    assert sum(expected_repeats.values()) > 0
