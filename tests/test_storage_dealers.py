"""Dealers (clusters of contacts across ads and sites) and re-post linking."""

from __future__ import annotations


from sqlalchemy import func, select

from monitor.storage import CrawlRecorder, Database
from monitor.storage.dealers import recompute_dealers
from monitor.storage.models import Dealer, Listing, Site
from storage_db import at, item



def record(db: Database, month: str, site: str, listings: list[tuple[str, dict]], batch_size: int = 500) -> None:
    run = db.start_run("site", at(month), month)
    with CrawlRecorder(db, run_id=run, site=site, observed_at=at(month), batch_size=batch_size) as rec:
        for external_id, fields in listings:
            rec.add(item(external_id, site=site, **fields), flagged=True, species=["ivory"], score=0.9)


def dealer_of(db: Database) -> dict[tuple[str, str], int | None]:
    with db.session() as s:
        rows = s.execute(select(Site.name, Listing.external_id, Listing.dealer_id).join(Site)).all()
    return {(site, eid): did for site, eid, did in rows}


def dealer_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Dealer))


def test_differently_written_contacts_link_one_dealer_across_sites(db: Database) -> None:
    record(db, "2025-06", "huaxia", [
        ("a1", {"contact_text": "电话 138 1234 5678 微信 WangLao88"}),
        ("a2", {"contact_text": "QQ 5556667"}),
    ])
    record(db, "2025-06", "taobao_sim", [
        ("b1", {"description": "有意者联系 一三八一二三四五六七八"}),
        ("b2", {"contact_text": "+86-139-0000-1111"}),
    ])
    record(db, "2025-07", "xianyu_sim", [
        ("c1", {"contact_text": "V信: WANGLAO88"}),
        ("c2", {"contacts": [("wechat", "wanglao88")]}),
        ("c3", {"contact_text": "扣扣 5556667"}),
        ("c4", {"title": "no contact here"}),
    ])
    dealers = dealer_of(db)
    one = dealers[("huaxia", "a1")]
    assert one is not None
    assert dealers[("taobao_sim", "b1")] == one
    assert dealers[("xianyu_sim", "c1")] == one
    assert dealers[("xianyu_sim", "c2")] == one
    assert dealers[("huaxia", "a2")] == dealers[("xianyu_sim", "c3")] != one
    assert dealers[("taobao_sim", "b2")] not in (None, one, dealers[("huaxia", "a2")])
    assert dealers[("xianyu_sim", "c4")] is None
    assert dealer_count(db) == 3


def test_missing_digit_links_to_the_full_number(db: Database) -> None:
    record(db, "2025-06", "huaxia", [("a1", {"contact_text": "手机 13812345678"})])
    record(db, "2025-06", "taobao_sim", [("b1", {"contact_text": "手机 1381234567"})])  # last 8 missing
    record(db, "2025-06", "dangdang_sim", [("c1", {"contact_text": "手机 1312345678"})])  # the 8 after 13 missing
    record(db, "2025-06", "jd_sim", [("d1", {"contact_text": "手机 13987654321"})])
    dealers = dealer_of(db)
    assert dealers[("huaxia", "a1")] == dealers[("taobao_sim", "b1")] == dealers[("dangdang_sim", "c1")]
    assert dealers[("jd_sim", "d1")] != dealers[("huaxia", "a1")]


def test_missing_digit_seen_first_links_when_the_full_number_arrives(db: Database) -> None:
    record(db, "2025-06", "taobao_sim", [("b1", {"contact_text": "电话 1381234567"})])
    record(db, "2025-07", "huaxia", [("a1", {"contact_text": "电话 138-1234-5678"})])
    dealers = dealer_of(db)
    assert dealers[("taobao_sim", "b1")] == dealers[("huaxia", "a1")] is not None


def test_a_bridging_ad_merges_two_dealers(db: Database) -> None:
    record(db, "2025-06", "huaxia", [("a1", {"contact_text": "微信 ivory_one"}), ("a2", {"contact_text": "QQ 7654321"})])
    before = dealer_of(db)
    assert before[("huaxia", "a1")] != before[("huaxia", "a2")]
    assert dealer_count(db) == 2
    record(db, "2025-07", "taobao_sim", [("b1", {"contact_text": "微信 Ivory_One 或 QQ 7654321"})])
    after = dealer_of(db)
    assert after[("huaxia", "a1")] == after[("huaxia", "a2")] == after[("taobao_sim", "b1")]
    assert after[("huaxia", "a1")] == min(before[("huaxia", "a1")], before[("huaxia", "a2")])
    assert dealer_count(db) == 1


def test_bridging_inside_one_batch_and_recompute_agree(db: Database) -> None:
    record(db, "2025-06", "huaxia", [
        ("a1", {"contact_text": "微信 aaa_111"}),
        ("a2", {"contact_text": "微信 bbb_222"}),
        ("a3", {"contact_text": "微信 ccc_333"}),
    ], batch_size=1)
    record(db, "2025-07", "huaxia", [
        ("a4", {"contact_text": "微信 aaa_111 微信 bbb_222"}),
        ("a5", {"contact_text": "微信 bbb_222 QQ 1234567"}),
        ("a6", {"contact_text": "微信 ccc_333"}),
    ])
    incremental = dealer_of(db)
    groups = lambda mapping: sorted(sorted(k[1] for k, v in mapping.items() if v == d) for d in set(mapping.values()))  # noqa: E731
    assert groups(incremental) == [["a1", "a2", "a4", "a5"], ["a3", "a6"]]
    with db.engine.begin() as conn:
        assert recompute_dealers(conn, at("2025-07")) == 2
    assert groups(dealer_of(db)) == groups(incremental)


REPOST_TEXT = "出售老象牙手镯一对，缅甸料，包浆自然，尺寸内径58毫米，重约62克，支持当面交易"


def test_reposts_are_linked_to_the_first_ad(db: Database) -> None:
    record(db, "2025-06", "huaxia", [
        ("1001", {"title": "老象牙手镯", "description": REPOST_TEXT}),
        ("1002", {"title": "红木雕刻摆件", "description": "小叶紫檀随形雕刻摆件，包浆厚重，底座完整，适合书房收藏陈列"}),
    ])
    record(db, "2025-07", "huaxia", [("2001", {"title": "老象牙手镯!!", "description": REPOST_TEXT + "。"})])
    record(db, "2025-07", "taiwan_sim", [("x9", {"title": "老象牙手鐲", "description":
        "出售老象牙手鐲一對，緬甸料，包漿自然，尺寸內徑58毫米，重約62克，支持當面交易"})])
    record(db, "2025-07", "other_sim", [("y1", {"title": "小叶紫檀手串", "description": "全新小叶紫檀手串，颗颗精选，佩戴舒适，送礼自用两相宜"})])
    with db.session() as s:
        rows = {eid: (lid, repost) for eid, lid, repost in s.execute(select(Listing.external_id, Listing.id, Listing.repost_of))}
    original = rows["1001"][0]
    assert rows["1001"][1] is None
    assert rows["2001"][1] == original
    assert rows["x9"][1] == original
    assert rows["1002"][1] is None and rows["y1"][1] is None
    from monitor.storage import stats

    with db.session() as s:
        assert stats.new_flagged_summary(s, "2025-07") == {"listings": 3, "unique_ads": 1, "reposts": 2}


def test_concurrent_crawls_of_two_sites_sharing_contacts(db: Database) -> None:
    """Two sites recorded at once (as the parallel crawl does) add the same new contacts."""
    import threading

    run = db.start_run("monthly", at("2025-06"), "2025-06")
    errors: list[BaseException] = []
    shared = [f"微信 shared_{n:03d} 电话 139{n:08d}" for n in range(40)]

    def crawl(site: str) -> None:
        try:
            with CrawlRecorder(db, run_id=run, site=site, observed_at=at("2025-06"), batch_size=10) as rec:
                for n, contact in enumerate(shared * 2):
                    rec.add(item(f"{site}-{n}", site=site, contact_text=contact), flagged=True, species=["ivory"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=crawl, args=(site,)) for site in ("alpha", "beta", "gamma")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    from monitor.storage.models import Contact

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Listing)) == 240
        assert s.scalar(select(func.count()).select_from(Contact)) == 80
    dealers = dealer_of(db)
    for n in range(40):
        assert len({dealers[(site, f"{site}-{k}")] for site in ("alpha", "beta", "gamma") for k in (n, n + 40)}) == 1
    assert dealer_count(db) == 40
