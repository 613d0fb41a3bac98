"""The simulated world without HTTP: calendar, content mix, dealers, truth, search, takedowns."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date

import pytest

from monitor.sandbox import SITES, Sandbox
from monitor.sandbox.generator import TRICKS
from monitor.sandbox.urls import listing_url, parse_listing_url


@pytest.fixture(scope="module")
def world() -> Sandbox:
    return Sandbox()


def small(seed: int = 7, n_months: int = 5) -> Sandbox:
    return Sandbox(seed=seed, first_month="2024-01", n_months=n_months)


def everything(world: Sandbox) -> list:
    """Every listing the world ever holds (cheaper than a truth per month)."""
    return [x for spec in SITES for x in world.site_listings(spec.name)]


def test_calendar_spans_24_months(world: Sandbox) -> None:
    assert len(world.months) >= 24
    assert world.months[0] == "2024-01" and world.months[-1] == "2025-12"
    assert world.today("2024-02") == date(2024, 2, 29)
    with pytest.raises(ValueError, match="outside the simulated calendar"):
        world.truth("2030-01")


def test_thirty_one_sites_six_archetypes(world: Sandbox) -> None:
    assert len(world.sites) == 31
    founders = Counter(s.archetype for s in world.sites if not s.newcomer)
    assert founders == {a: 5 for a in ("classifieds", "collectibles", "c2c", "b2b", "forum", "auction")}
    assert [(s.name, s.archetype) for s in world.sites if s.newcomer] == [("jingbiaotw", "auction")]
    charsets = {s.name: s.charset for s in world.sites}
    assert all(charsets[s.name] == "gbk" for s in world.sites if s.archetype == "collectibles")
    assert {charsets["lutian"], charsets["paimaitw"], charsets["jingbiaotw"]} == {"big5"}
    assert all(s.script == "traditional" for s in world.sites if s.archetype == "auction")


def test_monthly_volume_and_mix(world: Sandbox) -> None:
    for month in ("2024-01", "2025-06"):
        rows = world.truth(month)
        live = [r for r in rows if r["state"] == "live"]
        new = [r for r in rows if r["first_month"] == month]
        assert 2500 <= len(live) <= 3800, (month, len(live))
        assert 550 <= len(new) <= 950, (month, len(new))
        kinds = Counter(r["kind"] for r in live)
        assert 0.02 < kinds["lookalike"] / len(live) < 0.09
        assert 0.03 < kinds["illegal"] / len(live) < 0.16


def test_species_shares_follow_the_published_monitoring(world: Sandbox) -> None:
    first = world.check_month(world.months[0])
    species = Counter(x.species[0] for x in everything(world) if x.kind == "illegal" and x.posted_idx >= first)
    total = sum(species.values())
    assert 0.5 < species["ivory"] / total < 0.7
    assert 0.1 < species["rhino_horn"] / total < 0.26
    assert species.most_common(2)[1][0] == "rhino_horn"
    assert set(species) == {"ivory", "rhino_horn", "hawksbill", "hornbill", "tiger", "saiga", "pangolin", "leopard"}


def test_flagged_ads_fall_over_time(world: Sandbox) -> None:
    new = Counter(x.posted_idx for x in everything(world) if x.kind == "illegal")
    idx = [world.check_month(m) for m in world.months]
    first = sum(new[i] for i in idx[:6])
    last = sum(new[i] for i in idx[-6:])
    assert last < first * 0.7
    live = [sum(1 for r in world.truth(m) if r["illegal"] and r["state"] == "live") for m in (world.months[0], world.months[-1])]
    assert live[1] < live[0] * 0.7


def test_every_trick_and_lookalike_appears(world: Sandbox) -> None:
    listings = everything(world)
    tricks = Counter(t for x in listings if x.kind == "illegal" for t in x.tricks)
    assert set(TRICKS) <= set(tricks)
    text = " ".join(x.title + x.description for x in listings if x.kind == "lookalike")
    for word in ("象牙白", "豹纹", "玳瑁色", "象牙果", "虎皮青椒", "穿山甲"):
        assert word in text
    illegal_text = " ".join(x.title + x.description for x in listings if x.kind == "illegal")
    for word in ("白塑料", "象ya", "象芽", "带帽", "鶴頂紅", "XJ", "猛犸"):
        assert word in illegal_text, word
    assert re.search(r"象[ */-]牙", illegal_text)


def test_dealers_recur_across_sites_with_varied_contacts(world: Sandbox) -> None:
    sites: dict[str, set[str]] = defaultdict(set)
    written: dict[tuple[str, str], set[str]] = defaultdict(set)
    for x in everything(world):
        if x.seller.seller_id.startswith("D"):
            sites[x.seller.seller_id].add(x.site)
            for contact in x.contacts:
                written[(contact["kind"], contact["value"])].add(contact["written"])
    assert sum(1 for s in sites.values() if len(s) >= 2) >= 30
    assert any(len(forms) >= 3 for forms in written.values())
    variants = {c["variant"] for x in everything(world) for c in x.contacts}
    assert {"spaced", "dashed", "missing_digit", "chinese_numerals", "upper_case"} <= variants


def test_truth_rows_are_complete(world: Sandbox) -> None:
    rows = world.truth("2025-06")
    for row in rows[:: max(1, len(rows) // 300)]:
        assert parse_listing_url(row["url"]) == (row["site"], row["external_id"])
        assert row["posted_date"] <= "2025-06-30"
        assert row["state"] in ("live", "removed")
        assert (row["state"] == "removed") == (row["removed_month"] == "2025-06")
        assert row["illegal"] == bool(row["species"]) == (row["kind"] == "illegal")
        assert bool(row["lookalike_of"]) == (row["kind"] == "lookalike")
        if row["price_cny"] is not None:
            assert row["price_cny"] > 0 and row["currency"] in ("CNY", "TWD", "HKD")
        for contact in row["contacts"]:
            assert contact["kind"] in ("phone", "wechat", "qq") and contact["value"]
    removed = [r for r in rows if r["state"] == "removed"]
    assert {r["removal_kind"] for r in removed} == {"http_404", "http_410", "deleted_page", "redirect_home"}


def test_substring_sites_search_the_text_as_written(world: Sandbox) -> None:
    # Since issue 10 only the substring sites match any run of characters (the segmented ones
    # match words: tests/test_sandbox_search.py); this test moved from tongcheng, huaxiacang and
    # lutian (now segmented) to substring sites of the same archetypes.
    month = "2025-06"
    rows = world.truth(month)
    for site in ("kuaifenlei", "guwanjie", "paimaitw", "linlitie"):
        assert world.site(site).search_mode == "substring" and world.site(site).result_cap is None
        stale = site == "linlitie"
        expected = {r["external_id"] for r in rows if r["site"] == site and "象" in (r["title"] + " " + r["description"]).lower()
                    and (r["state"] == "live" or stale)}
        assert expected and set(world.search(site, "象", month)) == expected
    # Traditional sites only match Traditional text, in either search mode.
    for site in ("paimaitw", "lutian"):
        trad = [r for r in rows if r["site"] == site and "鐲" in r["title"]]
        assert trad and world.search(site, "手镯", month) == []
        assert world.search(site, "手鐲", month)


def test_takedowns_are_delayed_site_dependent_and_order_free() -> None:
    a, b = small(n_months=3), small(n_months=3)
    month = "2024-01"
    urls = [r["url"] for r in a.truth(month) if r["illegal"] and r["state"] == "live"]
    assert len(urls) > 100
    together = a.request_takedown(urls, month)
    one_by_one: dict[str, str | None] = {}
    for url in reversed(urls):
        one_by_one.update(b.request_takedown(["http://127.0.0.1:1" + url], month))
    assert together == {u: one_by_one["http://127.0.0.1:1" + u] for u in urls}
    assert set(together.values()) <= {None, "2024-02", "2024-03"}
    live_next = {r["url"] for r in a.truth("2024-01") if r["state"] == "live"}
    assert set(urls) <= live_next  # nothing vanishes in the month of the request
    gone = [u for u, when in together.items() if when]
    after = {r["url"]: r for r in a.truth("2024-03")}
    assert all(u not in after or after[u]["state"] == "removed" for u in gone)
    by_rate: dict[bool, list[bool]] = defaultdict(list)
    for url, when in together.items():
        site = parse_listing_url(url)[0]
        rate = a.site(site).takedown_rate
        if rate >= 0.7 or rate <= 0.4:
            by_rate[rate >= 0.7].append(when is not None)
    assert sum(by_rate[True]) / len(by_rate[True]) > sum(by_rate[False]) / len(by_rate[False]) + 0.2
    reasons = Counter(r["removal_reason"] for m in ("2024-02", "2024-03") for r in a.truth(m) if r["state"] == "removed")
    assert reasons["takedown"] > 0


def test_same_seed_same_world_other_seed_other_world() -> None:
    def content(world: Sandbox) -> list[tuple]:
        return [(x.external_id, x.title, x.description, x.price_text, x.posted, str(x.contacts))
                for site in ("huaxiacang", "lutian", "wenwanba") for x in world.site_listings(site)]

    first, again, other = small(7, 4), small(7, 4), small(8, 4)
    assert content(first) == content(again)
    assert content(first) != content(other)


def test_sites_do_not_depend_on_generation_order() -> None:
    forward, backward = small(3, 2), small(3, 2)
    names = ["tongcheng", "huaxiacang", "xianzhi", "pifa168", "wenwanba", "lutian"]
    for name in names:
        forward.site_listings(name)
    for name in reversed(names):
        backward.site_listings(name)
    for name in names:
        assert [(x.external_id, x.title, x.description, str(x.contacts)) for x in forward.site_listings(name)] == \
               [(x.external_id, x.title, x.description, str(x.contacts)) for x in backward.site_listings(name)]


def test_listing_urls_round_trip() -> None:
    for spec in SITES:
        assert parse_listing_url(listing_url(spec, "12345")) == (spec.name, "12345")
    assert parse_listing_url("/nosuchsite/item/1") is None


def _founders_digest(world: Sandbox) -> list[tuple]:
    return [(x.site, x.external_id, x.title, x.description, x.price_text, x.seller.seller_id, x.contact_text,
             x.location, x.posted, x.removed_idx, x.filed)
            for s in world.sites if not s.newcomer for x in world.site_listings(s.name)]


def test_a_site_that_joins_later_changes_none_of_the_founders(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.sandbox.world as world_module

    with_newcomer = _founders_digest(Sandbox())
    founders = tuple(s for s in world_module.SITES if not s.newcomer)
    monkeypatch.setattr(world_module, "SITES", founders)
    without = Sandbox()
    assert [s.name for s in without.sites] == [s.name for s in founders]
    assert _founders_digest(without) == with_newcomer


def test_the_mixed_region_site_writes_each_listing_for_its_sellers_region(world: Sandbox) -> None:
    items = world.site_listings("jingbiaotw")
    by_currency = Counter(x.currency for x in items)
    assert by_currency["TWD"] > 100 and by_currency["HKD"] > 100 and set(by_currency) == {"TWD", "HKD"}
    for x in items:
        region = "hk" if x.currency == "HKD" else "tw"
        assert x.seller.region == region
        assert not x.price_text or x.price_text == "面議" or x.price_text.startswith("HK$" if region == "hk" else "NT$")
    hk_only = [x for x in items if x.currency == "HKD" and "埗" in x.location]  # 深水埗: an HK place, not in Big5
    assert hk_only
    dealers = {x.seller.seller_id for x in items if x.kind == "illegal"}
    assert dealers and all(d.startswith("D") for d in dealers)  # recruited from the network's dealers
