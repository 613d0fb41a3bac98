"""The workbench over real HTTP: uvicorn on 127.0.0.1 serving a real SQLite file in tmp_path.

Decisions are read back from the database (and through ``wtm review export``'s rows), evidence
headers and bytes are checked as a browser would get them, and every page is parsed to prove
scraped text stays text."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from sqlalchemy import func, select

import report_fixtures as fx
import workbench_fixtures as wf
from monitor.items import ListingItem
from monitor.storage import CrawlRecorder, Database
from monitor.storage.models import Listing, ReviewDecision
from monitor.storage.review import review_rows
from monitor.workbench import create_app
from monitor.workbench.security import EVIDENCE_CSP, hash_password, verify_password
from workbench_fixtures import Served, call


def page(url: str, **kw: Any) -> Any:
    status, _, body = call(url, **kw)
    assert status == 200, (url, status, body[:300])
    return lxml.html.fromstring(body.decode("utf-8"))


def csrf(base: str, headers: dict[str, str] | None = None) -> str:
    return page(base + "/", headers=headers).xpath("//meta[@name='csrf-token']/@content")[0]


def assert_inert(tree: Any) -> None:
    """Only the workbench's own script, no image or object, only the sandboxed evidence frame,
    no event handler or javascript: anywhere, and every link stays on the workbench."""
    assert [s.get("src") for s in tree.xpath("//script")] == ["/static/workbench.js"]
    assert tree.xpath("//img") == [] and tree.xpath("//object") == [] and tree.xpath("//embed") == []
    for frame in tree.xpath("//iframe"):
        assert frame.get("sandbox") == "" and frame.get("src").startswith("/evidence/")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            assert "javascript:" not in value.lower(), (element.tag, name, value)
    for anchor in tree.xpath("//a[@href]"):
        assert anchor.get("href").startswith("/"), anchor.get("href")
    for link in tree.xpath("//link[@href]"):
        assert link.get("href").startswith("/static/") or link.get("href") == "data:,", link.get("href")


@pytest.fixture()
def history(tmp_path: Path) -> Iterator[tuple[Database, dict[str, int]]]:
    db, ids = wf.make_database(tmp_path)
    yield db, ids
    db.dispose()


@pytest.fixture()
def served(history: tuple[Database, dict[str, int]]) -> Iterator[tuple[Served, Database, dict[str, int]]]:
    db, ids = history
    server = Served(create_app(db, analyst="分析员 Li"))
    yield server, db, ids
    server.stop()


def flagged_ids(tree: Any) -> list[int]:
    return [int(i) for i in tree.xpath("//li[@data-listing][not(contains(@class,'sample'))]/@data-listing")]


def test_queue_lists_unreviewed_flags_newest_month_first_and_filters(served) -> None:
    server, db, _ = served
    tree = page(server.base + "/")
    ids = flagged_ids(tree)
    with db.session() as s:
        flags = s.execute(select(Listing.id, Listing.first_seen_month).where(Listing.flagged.is_(True))).all()
    assert sorted(ids) == sorted(i for i, _ in flags) and len(ids) == 16
    months = dict(flags)
    assert [months[i] for i in ids] == sorted((months[i] for i in ids), reverse=True)
    alpha = flagged_ids(page(server.base + "/?site=alpha"))
    assert alpha and len(alpha) < len(ids)
    assert flagged_ids(page(server.base + "/?species=tiger")) and \
        len(flagged_ids(page(server.base + "/?species=tiger"))) == 3
    with db.session() as s:
        dealer = s.execute(select(Listing.dealer_id).where(Listing.external_id == "script")).scalar()
    assert len(flagged_ids(page(server.base + f"/?dealer={dealer}"))) == 3
    card = tree.xpath("//li[@data-listing]")[0]
    assert card.xpath(".//mark") and card.xpath(".//ul[@class='reasons']/li")


def test_a_decision_lands_where_review_import_writes_with_who_and_when(served) -> None:
    server, db, ids = served
    token = csrf(server.base)
    listing = ids["gbk"]
    status, _, body = call(server.base + "/api/decide", {"listing_id": listing, "decision": "confirmed", "note": "老料"},
                           headers={"X-CSRF-Token": token})
    assert status == 200, body
    with db.session() as s:
        rows = list(s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id == listing)))
    assert [(r.decision, r.reviewer, r.note, r.current) for r in rows] == [("confirmed", "分析员 Li", "老料", True)]
    assert abs((rows[0].decided_at - __import__("datetime").datetime.now()).total_seconds()) < 120
    exported = {r["listing_id"]: r for r in review_rows(db, "2025-03")}
    assert exported[listing]["decision"] == "confirmed" and exported[listing]["reviewer"] == "分析员 Li"
    assert listing not in flagged_ids(page(server.base + "/"))
    assert listing in flagged_ids(page(server.base + "/?reviewed=1"))
    call(server.base + "/api/decide", {"listing_id": listing, "decision": "rejected"}, headers={"X-CSRF-Token": token})
    status, _, body = call(server.base + "/api/undo", {"listing_id": listing}, headers={"X-CSRF-Token": token})
    assert json.loads(body)["decision"] == "confirmed"
    with db.session() as s:
        current = s.scalars(select(ReviewDecision).where(ReviewDecision.listing_id == listing,
                                                         ReviewDecision.current.is_(True))).all()
    assert [d.decision for d in current] == ["confirmed"]
    status, _, _ = call(server.base + "/api/decide", {"listing_id": 999999, "decision": "confirmed"},
                        headers={"X-CSRF-Token": token})
    assert status == 404
    status, _, _ = call(server.base + "/api/decide", {"listing_id": listing, "decision": "maybe"},
                        headers={"X-CSRF-Token": token})
    assert status == 400


def test_writes_need_the_csrf_token_and_the_host_must_be_loopback(served) -> None:
    server, db, ids = served
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        status, _, _ = call(server.base + "/api/decide", {"listing_id": ids["gbk"], "decision": "confirmed"},
                            headers=headers)
        assert status == 403
    with db.session() as s:
        assert s.scalars(select(ReviewDecision)).all() == []
    status, _, _ = call(server.base + "/", headers={"Host": f"rebound.example:{server.port}"})
    assert status == 400
    assert call(server.base + "/", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_scraped_text_is_escaped_on_every_page(served) -> None:
    server, db, _ = served
    with db.session() as s:
        evil = s.execute(select(Listing.id, Listing.dealer_id).where(Listing.external_id == "evil")).one()
    for path in ["/", "/?site=alpha", f"/listing/{evil.id}", f"/dealer/{evil.dealer_id}", "/sites",
                 "/search?q=" + urllib.request.quote("象牙"), "/search?q=" + urllib.request.quote("<script>")]:
        tree = page(server.base + path)
        assert_inert(tree)
    text = page(server.base + f"/listing/{evil.id}").text_content()
    assert fx.HOSTILE_TITLE in text and fx.HOSTILE_SELLER in text and fx.HOSTILE_URL in text


def test_evidence_is_served_by_hash_only_inert_and_in_its_charset(served) -> None:
    server, db, ids = served
    for name, text, charset in (("gbk", wf.GBK_TEXT, "gb18030"), ("big5", wf.BIG5_TEXT, "big5")):
        tree = page(server.base + f"/listing/{ids[name]}")
        src = tree.xpath("//iframe/@src")[0]
        status, headers, body = call(server.base + src)
        assert status == 200
        assert headers["content-security-policy"] == EVIDENCE_CSP
        assert headers["content-type"] == f"text/html; charset={charset}"
        assert text in body.decode(charset)
        assert src.rsplit("/", 1)[1] in tree.text_content()
    for bad in ["/evidence/" + "0" * 64, "/evidence/..%2F..%2Fwtm.sqlite3", "/evidence/%2Fetc%2Fpasswd",
                "/evidence/" + "A" * 64]:
        assert call(server.base + bad)[0] == 404


def test_dealer_page_and_sites_page(served) -> None:
    server, db, ids = served
    with db.session() as s:
        dealer = s.execute(select(Listing.dealer_id).where(Listing.external_id == "script")).scalar()
    tree = page(server.base + f"/dealer/{dealer}")
    text = tree.text_content()
    assert "13800138000" in text and "epsilon" in text and "李" in text
    assert len(tree.xpath("//table[@class='ads']/tbody/tr")) == 3
    assert tree.xpath("//*[local-name()='svg']//*[local-name()='rect']")
    assert call(server.base + "/dealer/999999")[0] == 404
    sites = page(server.base + "/sites").text_content()
    assert "wtm crawl --site delta" in sites and "every search page answered HTTP 503" in sites


def test_search_finds_two_character_terms_and_new_listings(served) -> None:
    server, db, ids = served

    def found(query: str) -> set[str]:
        tree = page(server.base + "/search?q=" + urllib.request.quote(query))
        return {a.get("href") for a in tree.xpath("//ol[@class='results']//a")}

    ivory = found("象牙")
    assert len(ivory) == 17  # every listing of the history holds 象牙 in its title
    assert found("犀角") == {f"/listing/{ids[n]}" for n in ("script", "gbk", "big5")}
    assert found("象") == ivory and found("象牙手镯") and found("猛犸") == set()
    observed = fx.datetime(2025, 3, 27, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-03")
    rec = CrawlRecorder(db, run_id=run_id, site="epsilon", observed_at=observed)
    rec.add(ListingItem(site="epsilon", external_id="new", url="http://127.0.0.1:9/e/new", title="穿山甲鳞片 出售",
                        fetched_at=observed))
    rec.finish(fx.HEALTHY)
    assert len(found("甲鳞")) == 1 and len(found("穿山甲")) == 1


def test_password_login_names_who_decided(history) -> None:
    db, ids = history
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    assert "correct horse" not in stored
    server = Served(create_app(db, analyst="nobody", password_hash=stored))
    try:
        assert call(server.base + "/")[0] == 401
        bad = {"Authorization": "Basic " + base64.b64encode(b"wang:wrong").decode()}
        assert call(server.base + "/", headers=bad)[0] == 401
        good = {"Authorization": "Basic " + base64.b64encode("王:correct horse".encode()).decode()}
        token = csrf(server.base, headers=good)
        status, _, _ = call(server.base + "/api/decide", {"listing_id": ids["big5"], "decision": "rejected"},
                            headers={**good, "X-CSRF-Token": token})
        assert status == 200
        with db.session() as s:
            assert s.scalars(select(ReviewDecision.reviewer)).all() == ["王"]
    finally:
        server.stop()


def test_serve_refuses_other_addresses_without_a_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "1"])
    assert exit_info.value.code == 2
    assert "serve_password_hash" in capsys.readouterr().err
    (tmp_path / "wtm.toml").write_text(f'serve_password_hash = "{hash_password("pw")}"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(tmp_path / "wtm.toml"), "--data-dir", str(tmp_path), "config", "show"])
    shown = capsys.readouterr().out
    assert "scrypt$" not in shown and "serve_password_hash" in shown


def test_queue_carries_a_fixed_stratified_sample_of_unflagged_listings(served) -> None:
    from monitor.storage.review import unflagged_sample

    server, db, _ = served
    observed = fx.datetime(2025, 4, 20, 9, 0)
    run_id = db.start_run(kind="monthly", started_at=observed, month="2025-04")
    for site, count in (("alpha", 9), ("beta", 2)):
        rec = CrawlRecorder(db, run_id=run_id, site=site, observed_at=observed)
        for n in range(count):
            rec.add(ListingItem(site=site, external_id=f"u{n}", url=f"http://127.0.0.1:9/{site}/u{n}",
                                title=f"茶杯 {n}", fetched_at=observed))
        rec.finish(fx.HEALTHY)
    sample = unflagged_sample(db, "2025-04")
    with db.session() as s:
        sites = dict(s.execute(select(Listing.id, Listing.site_id).where(Listing.id.in_(sample))).all())
        flagged = s.execute(select(Listing.id).where(Listing.id.in_(sample), Listing.flagged.is_(True))).all()
    assert len(sample) == 7 and sorted(list(sites.values()).count(v) for v in set(sites.values())) == [2, 5]
    assert flagged == [] and unflagged_sample(db, "2025-04") == sample
    tree = page(server.base + "/")
    shown = [int(i) for i in tree.xpath("//li[contains(@class,'sample')]/@data-listing")]
    assert sorted(shown) == sorted(sample)
    token = csrf(server.base)
    assert call(server.base + "/api/decide", {"listing_id": sample[0], "decision": "rejected"},
                headers={"X-CSRF-Token": token})[0] == 200
    again = [int(i) for i in page(server.base + "/").xpath("//li[contains(@class,'sample')]/@data-listing")]
    assert sorted(again) == sorted(sample[1:]) and unflagged_sample(db, "2025-04") == sample
    assert page(server.base + "/?species=ivory").xpath("//li[contains(@class,'sample')]") == []


def test_evidence_without_a_declared_charset_is_read_in_its_site_files_charset(history) -> None:
    db, _ = history
    observed = fx.datetime(2025, 3, 27, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-03")
    bare = "<html><body><p>老料象牙 手鐲</p></body></html>"
    for site, charset in (("zeta", "gbk"), ("eta", "big5")):
        rec = CrawlRecorder(db, run_id=run_id, site=site, observed_at=observed)
        rec.add(ListingItem(site=site, external_id="bare", url=f"http://127.0.0.1:9/{site}/bare", title="象牙",
                            fetched_at=observed), evidence=bare.encode(charset))
        rec.finish(fx.HEALTHY)
    server = Served(create_app(db, charsets={"zeta": "gbk", "eta": "big5"}))
    try:
        with db.session() as s:
            from monitor.storage.models import Evidence, Site
            rows = s.execute(select(Site.name, Evidence.sha256).join(Listing, Listing.site_id == Site.id)
                             .join(Evidence, Evidence.listing_id == Listing.id)
                             .where(Site.name.in_(["zeta", "eta"]))).all()
        for site, sha in rows:
            status, headers, body = call(f"{server.base}/evidence/{sha}")
            label = {"zeta": "gb18030", "eta": "big5"}[site]  # GBK served as its superset
            assert status == 200 and headers["content-type"] == f"text/html; charset={label}"
            assert "老料象牙" in body.decode(label)
    finally:
        server.stop()


def test_search_follows_a_listings_edited_text(served) -> None:
    from monitor.storage.search import refresh_index, search

    server, db, ids = served
    refresh_index(db)
    assert {r["listing_id"] for r in search(db, "犀角")} == set(ids.values())
    observed = fx.datetime(2025, 4, 2, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-04")
    rec = CrawlRecorder(db, run_id=run_id, site="epsilon", observed_at=observed)
    rec.add(ListingItem(site="epsilon", external_id="gbk", url="http://127.0.0.1:9/epsilon/gbk", title="gbk 玳瑁手镯",
                        description="老货 穿山甲", price_text="¥800", seller="李", fetched_at=observed))
    rec.finish(fx.HEALTHY)
    refresh_index(db)
    assert ids["gbk"] not in {r["listing_id"] for r in search(db, "犀角")}
    assert ids["gbk"] not in {r["listing_id"] for r in search(db, "摆件")}
    for term in ("玳瑁", "穿山甲", "老货", "gbk"):
        assert ids["gbk"] in {r["listing_id"] for r in search(db, term)}, term
    with db.session() as s:
        from monitor.storage.models import SearchGram
        stale = s.scalars(select(SearchGram.gram).where(SearchGram.listing_id == ids["gbk"])).all()
    assert "犀角" not in stale and "摆件" not in stale and "玳瑁" in stale


def test_hash_password_prints_a_hash_that_checks_and_never_the_password(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", "--hash-password"],
                                input="s3cret-象牙\ns3cret-象牙\n")
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith('serve_password_hash = "scrypt$') and "s3cret" not in line
    assert verify_password("s3cret-象牙", line.split('"')[1])


def test_evidence_is_served_with_the_type_and_charset_the_crawl_recorded(history) -> None:
    """A recorded charset wins over sniffing (this page declares none and its site has no
    charset here); a JSON page stays JSON; a type outside the plain text ones is served as HTML,
    never as what the server claimed (SVG, a download)."""
    db, _ = history
    observed = fx.datetime(2025, 3, 27, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-03")
    pages = {"gbk-bare": ("<p>老料象牙 手镯</p>".encode("gbk"), "text/html", "gbk", "text/html; charset=gb18030"),
             "big5-json": ('{"title": "象牙手鐲"}'.encode("big5"), "application/json", "big5hkscs",
                           "application/json; charset=big5"),
             "svg": ("<svg><text>象牙</text></svg>".encode(), "image/svg+xml", "utf-8", "text/html; charset=utf-8"),
             "bogus": ("<p>象牙</p>".encode(), "text/html", "no-such-codec", "text/html; charset=utf-8")}
    rec = CrawlRecorder(db, run_id=run_id, site="theta", observed_at=observed)
    for external_id, (body, kind, charset, _) in pages.items():
        rec.add(ListingItem(site="theta", external_id=external_id, url=f"http://127.0.0.1:9/theta/{external_id}",
                            title="象牙", fetched_at=observed, raw_content_type=kind, raw_encoding=charset),
                evidence=body)
    rec.finish(fx.HEALTHY)
    with db.session() as s:
        from monitor.storage.models import Evidence
        shas = dict(s.execute(select(Listing.external_id, Evidence.sha256)
                              .join(Evidence, Evidence.listing_id == Listing.id).where(Listing.external_id.in_(pages))).all())
    with Served(create_app(db)) as server:
        for external_id, (body, _, _, served_as) in pages.items():
            status, headers, got = call(f"{server.base}/evidence/{shas[external_id]}")
            assert status == 200 and got == body
            assert headers["content-type"] == served_as, external_id
            assert headers["content-security-policy"] == EVIDENCE_CSP
        assert "老料象牙" in call(f"{server.base}/evidence/{shas['gbk-bare']}")[2].decode("gb18030")


def test_search_refreshes_the_index_within_a_bound_and_says_when_it_is_behind(served) -> None:
    import time

    from monitor.storage.search import index_behind, refresh_index

    server, db, _ = served
    refresh_index(db)
    observed = fx.datetime(2025, 4, 3, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-04")
    rec = CrawlRecorder(db, run_id=run_id, site="epsilon", observed_at=observed)
    rec.add(ListingItem(site="epsilon", external_id="late", url="http://127.0.0.1:9/e/late", title="玳瑁梳子",
                        fetched_at=observed))
    rec.finish(fx.HEALTHY)
    assert index_behind(db) and refresh_index(db, deadline=time.monotonic()) == 0 and index_behind(db)
    server_app = server.server.config.app
    with server_app.state.index_lock:  # another request is refreshing: this one searches what is indexed
        text = page(server.base + "/search?q=" + urllib.request.quote("玳瑁梳")).text_content()
    assert "still catching up" in text and "玳瑁梳子" not in text
    text = page(server.base + "/search?q=" + urllib.request.quote("玳瑁梳")).text_content()
    assert "still catching up" not in text and "玳瑁梳子" in text and not index_behind(db)


def test_dealer_page_links_the_dossier_download(served) -> None:
    import io

    import openpyxl

    server, db, _ = served
    with db.session() as s:
        dealer = s.execute(select(Listing.dealer_id).where(Listing.external_id == "script")).scalar()
    tree = page(server.base + f"/dealer/{dealer}")
    for lang in ("zh", "en"):
        href = tree.xpath(f"//a[@id='dossier-{lang}']/@href")[0]
        status, headers, body = call(server.base + href)
        assert status == 200, body[:300]
        assert headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert headers["content-disposition"] == f'attachment; filename="dealer-{dealer}-dossier-{lang}.xlsx"'
        book = openpyxl.load_workbook(io.BytesIO(body))
        cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
        assert any("13800138000" in c for c in cells) and any("李" in c for c in cells), lang
    assert call(server.base + "/dealers/999999/dossier.xlsx")[0] == 404
    assert call(server.base + f"/dealers/{dealer}/dossier.xlsx?lang=fr")[0] == 400


def test_serve_shows_the_first_index_builds_progress(history, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli.serve import build_index

    db, _ = history
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(Listing))
    assert build_index(db, quiet=False) == count
    assert f"search index: {count:,} of {count:,} listings indexed" in capsys.readouterr().err
    assert build_index(db, quiet=False) == 0 and capsys.readouterr().err == ""
