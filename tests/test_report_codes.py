"""Every code the report can show has a zh and an en name, walked from where each code set is
defined, and neither language's visible text carries a raw code, a site's short name or a capped
list that does not say how much it left out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import lxml.html
import pytest

from monitor.contacts import CONTACT_KINDS
from monitor.currency import CNY_RATES
from monitor.items import REMOVAL_KINDS, ListingItem
from monitor.matching.lexicon import TERM_KINDS, TRICKS
from monitor.reports import build_context, render_html
from monitor.reports.codes import CODE_NAMES
from monitor.reports.labels import FAULT_NAMES, KIND_NAMES, LANGUAGES, WORDS
from monitor.reports.sections import dealers, examples
from monitor.spiders.archetypes import ARCHETYPES
from monitor.storage import CrawlRecorder
from monitor.storage.review import DECISIONS
from monitor.storage.supply import FORMS, INTENTS

import report_fixtures as fx

RAW = ("redirect_home", "http_404", "deleted_page", "login_wall", "finished", "phone:", "wechat:", "qq:")
TITLES = {"alpha": "阿尔法古玩", "beta": "贝塔二手", "gamma": "伽马商城", "delta": "德尔塔拍卖"}

CODE_SETS = {
    "removal": REMOVAL_KINDS,
    "contact": CONTACT_KINDS,
    "trick": TRICKS,
    "archetype": tuple(ARCHETYPES),
    "decision": (*DECISIONS, "candidate"),
    "form": FORMS,
    "intent": INTENTS,
    "currency": tuple(CNY_RATES),
}


@pytest.mark.parametrize("group", sorted(CODE_SETS))
def test_every_code_of_every_set_has_both_names(group: str) -> None:
    for code in CODE_SETS[group]:
        for lang in LANGUAGES:
            name = CODE_NAMES[group][lang].get(code)
            assert name and name.strip(), (group, code, lang)
            assert name != code or "_" not in code, (group, code, lang)
    for lang in LANGUAGES:
        assert set(CODE_NAMES[group][lang]) >= set(CODE_SETS[group])


def test_tables_without_a_code_set_name_the_same_codes_in_both_languages() -> None:
    assert set(KIND_NAMES["zh"]) == set(KIND_NAMES["en"]) == set(TERM_KINDS)
    assert set(FAULT_NAMES["zh"]) == set(FAULT_NAMES["en"])
    for group, names in CODE_NAMES.items():
        assert set(names["zh"]) == set(names["en"]), group
    assert set(WORDS["zh"]) == set(WORDS["en"])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    folder: Path = tmp_path_factory.mktemp("codes")
    database = fx.make_database(folder)
    # A later crawl of alpha in the report's month: every removal method, every contact kind,
    # a login wall and a crawl that did not finish normally.
    observed = datetime(2025, 3, 28, 23, 0)
    run_id = database.start_run(kind="rerun", started_at=observed, month="2025-03")
    rec = CrawlRecorder(database, run_id=run_id, site="alpha", observed_at=observed)
    item = ListingItem(site="alpha", external_id="c1", url="http://127.0.0.1:9/alpha/item/c1.html", title="象牙手镯 c1",
                       contact_text="QQ 123456 座机 020-12345678 电话 13912345678 微信 wx123", fetched_at=observed,
                       contacts=[("qq", "123456"), ("landline", "020-12345678"), ("phone", "13912345678"),
                                 ("wechat", "wx123")])
    rec.add(item, [{"term": "象牙", "species": "ivory", "kind": "name", "field": "title", "start": 0, "end": 2,
                    "text": "象牙", "trick": "plain"}], lexicon_version="test", flagged=True, species=["ivory"],
            score=3.0, evidence=b"<html>c1</html>")
    for external_id, kind in (("a2", "redirect_home"), ("a4", "http_410"), ("a5", "deleted_page"), ("a6", "http_404")):
        rec.mark_removed(external_id, kind)
    rec.finish({**fx.HEALTHY, "errors": {"login_wall": 2, "http_429": 1}, "finish_reason": "closespider_timeout",
                "healthy": False, "problems": []})
    database.finish_run(run_id, observed)
    yield database
    database.dispose()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_visible_text_has_no_raw_code_and_names_sites_by_title(db, lang: str, monkeypatch) -> None:
    monkeypatch.setattr(examples, "LIMIT", 3)
    monkeypatch.setattr(dealers, "LIMIT", 2)
    context = build_context(db, "2025-03", lang, now=datetime(2025, 4, 1), site_titles=TITLES)
    tree = lxml.html.fromstring(render_html(context))
    text = tree.text_content()
    for raw in RAW:
        assert raw not in text.lower(), (lang, raw)
    assert "closespider" not in text and "http_429" not in text
    sites = [th.text_content() for th in tree.xpath('//section[@id="sites"]//tbody/tr/th')]
    assert sites and set(sites) <= set(TITLES.values())
    health = {th.text_content() for th in tree.xpath('//section[@id="health"]//tbody/tr/th')}
    assert health == {TITLES["alpha"], TITLES["beta"], TITLES["delta"]}
    total = context["key_points"]["total"]
    shown = "显示得分最高的 3 条，共 {} 条".format(total) if lang == "zh" else "3 of {} shown".format(total)
    assert total > 3 and shown in text
    if lang == "en":
        assert "；" not in text
        assert "WeChat wx123" in text or "WeChat dealer" in text


def test_capped_lists_say_so_and_the_exports_carry_every_row(db, tmp_path: Path, monkeypatch) -> None:
    """The page shows "N of M" under each capped list; the spreadsheet exports are built whole."""
    import json

    from monitor.config import load_config
    from monitor.reports import render_report, tables

    monkeypatch.setattr(examples, "LIMIT", 2)
    monkeypatch.setattr(dealers, "LIMIT", 1)
    page = build_context(db, "2025-03", "en", now=datetime(2025, 4, 1))
    whole = build_context(db, "2025-03", "en", now=datetime(2025, 4, 1), full=True)
    total = page["key_points"]["total"]
    assert len(page["examples"]) == 2 < total == len(whole["examples"]) == len(tables(whole)["examples"])
    assert len(page["dealers_all_time"]) == 1 < page["dealers_all_time_total"] == len(whole["dealers_all_time"])
    assert len(whole["dealers"]) == page["dealers_total"] > len(page["dealers"]) == 1
    text = lxml.html.fromstring(render_html(page)).text_content()
    assert f"1 of {page['dealers_all_time_total']} shown" in text and f"2 of {total} shown" in text

    config = load_config(None, {"data_dir": str(tmp_path), "database_url": db.url})
    exported = json.loads(render_report(config, "2025-03", tmp_path / "r.json", fmt="json", lang="en").read_text())
    assert len(exported["tables"]["examples"]) == total
    assert len(exported["tables"]["dealers_all_time"]) == page["dealers_all_time_total"]
