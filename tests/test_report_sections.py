"""The report's sections are one registry: each entry's template, heading, entries and tables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from monitor.reports import build_context, render_html, tables
from monitor.reports.labels import LANGUAGES, words
from monitor.reports.sections import SECTIONS, Query, Section, build_all, export_all
from monitor.storage import Database

import report_fixtures as fx

TEMPLATES = Path(__file__).resolve().parents[1] / "reports" / "templates"


def test_every_section_has_its_template_heading_and_anchor() -> None:
    keys = [s.key for s in SECTIONS]
    assert len(keys) == len(set(keys))
    for section in SECTIONS:
        assert (TEMPLATES / section.template).is_file(), section.template
        assert f'id="{section.key}"' in (TEMPLATES / section.template).read_text(encoding="utf-8"), section.key
        for lang in LANGUAGES:
            assert words(lang)[section.title], (section.key, lang)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("sections")
    fx.make_database(folder).dispose()
    db = Database(f"sqlite:///{folder / 'wtm.sqlite3'}")
    try:
        return build_context(db, "2025-03", "en", now=datetime(2025, 4, 1))
    finally:
        db.dispose()


def test_page_contents_and_exports_follow_the_registry(context: dict) -> None:
    page = render_html(context)
    anchors = [page.index(f'<section id="{s.key}"') for s in SECTIONS]
    assert anchors == sorted(anchors)
    for section in SECTIONS:
        assert f'href="#{section.key}"' in page
    assert list(tables(context)) == list(export_all(context))
    assert set(tables(context)) >= {"summary", "trend", "species", "sites", "takedowns", "dealers", "examples"}


def test_a_new_section_is_one_entry_and_built_after_what_it_needs() -> None:
    seen: list[str] = []

    def first(q: Query, built: dict) -> dict:
        seen.append("first")
        return {"count": 2}

    def second(q: Query, built: dict) -> dict:
        seen.append("second")
        return {"double": built["count"] * 2}

    extra = (Section(key="b", title="b", template="_b.html", build=second, needs=("count",),
                     export=lambda c: {"double": [{"value": c["double"]}]}),
             Section(key="a", title="a", template="_a.html", build=first))
    built = build_all(None, extra)  # type: ignore[arg-type]
    assert seen == ["first", "second"] and built == {"count": 2, "double": 4}
    assert export_all(built, extra) == {"double": [{"value": 4}]}
    with pytest.raises(ValueError, match="needs"):
        build_all(None, extra[:1])  # type: ignore[arg-type]


def test_prices_in_cny_with_the_rates_stated(tmp_path: Path) -> None:
    """A Hong Kong dollar price converted by the crawl's parser is shown in CNY beside the price as
    written, and the page and the exports state the rates, from the one rate table."""
    from monitor.crawling import parsers
    from monitor.currency import CNY_RATES
    from monitor.items import ListingItem
    from monitor.storage import CrawlRecorder

    assert parsers.CNY_RATES is CNY_RATES  # one table: what the crawl converts with is what the page states
    price = parsers.parse_price("HK$12,000")
    assert (price.currency, price.cny) == ("HKD", 12000 * CNY_RATES["HKD"])
    db = Database(f"sqlite:///{tmp_path / 'wtm.sqlite3'}")
    db.upgrade()
    seen = datetime(2025, 3, 20, 10, 0)
    run_id = db.start_run(kind="monthly", started_at=seen, month="2025-03")
    rec = CrawlRecorder(db, run_id=run_id, site="hk", observed_at=seen)
    item = ListingItem(site="hk", external_id="1", url="http://127.0.0.1:9/hk/1.html", title="象牙手鐲 老料",
                       description="", price_text="HK$12,000", price_amount=price.amount, price_currency=price.currency,
                       price_cny=price.cny, location="旺角", fetched_at=seen)
    rec.add(item, [{"term": "象牙", "species": "ivory", "kind": "name", "field": "title", "start": 0, "end": 2,
                    "text": "象牙", "trick": ""}], lexicon_version="test", flagged=True, species=["ivory"], score=1.0)
    rec.finish(fx.HEALTHY)
    db.finish_run(run_id, seen)
    try:
        for lang, rate_text in (("zh", "1 港币 = 0.92 人民币、1 新台币 = 0.22 人民币"), ("en", "1 HKD = 0.92 CNY, 1 TWD = 0.22 CNY")):
            context = build_context(db, "2025-03", lang, now=datetime(2025, 4, 1))
            page = render_html(context)
            examples = page.split('id="examples"')[1].split("</section>")[0]
            assert words(lang)["col_price_cny"] in examples and "HK$12,000" in examples and "¥11,040" in examples
            assert rate_text in examples
            exported = tables(context)
            assert exported["examples"][0]["price_cny"] == 11040
            assert {"currency": "HKD", "cny_per_unit": 0.92} in exported["cny_rates"]
    finally:
        db.dispose()


def _crawl_problems() -> list[str]:
    """Every problem sentence crawl health writes, made by its own ``assess`` on bad crawls, and
    those the recorder, runner and Scrapyd coordinator write when a site fails outright."""
    from monitor.crawlhealth import Stat
    from monitor.crawling.health import assess

    bad = {Stat.ITEMS_LIVE: 3, Stat.ERRORS + "storage": 2, Stat.GAVE_UP: 5, Stat.LISTINGS_UNREAD: 9,
           "downloader/request_count": 40, "downloader/exception_count": 30}
    fell = {Stat.ITEMS_LIVE: 20, **{Stat.FIELD + name: 1 for name in ("price", "date", "contact", "location")}}
    before = {"items": 100, "coverage": {name: 0.9 for name in ("price", "date", "contact", "location")}}
    first = {Stat.ITEMS_LIVE: 20}
    problems = [
        *assess(bad, "closespider_timeout", [], None, 1.0).problems,
        *assess({}, "disk_full", [], None, 1.0).problems,
        *assess(fell, "finished", [], before, 1.0).problems,
        *assess(first, "finished", ["price", "posted", "contact", "location"], None, 1.0).problems,
        "7 removals not applied because the crawl was unhealthy", "storing the last listings failed: disk I/O error",
        "no outcome reported; see /srv/wtm/logs/scrapy-2025-03.log", "crawl did not run",
        "crawl failed: RuntimeError: boom", "no Scrapyd node answers",
        "job run3-alpha-1 on http://node1:6800 ended without finishing the site; see http://node1:6800/logs/wtm/alpha/x.log",
        "abandoned: its process is gone", "abandoned: its heartbeat is stale", "abandoned: its job run3-alpha-1 was cancelled",
        "abandoned: its Scrapyd node http://node1:6800 stopped answering", "abandoned: Scrapyd reports its job run3-alpha-1 ended",
        "failed while finishing", "aborted",
    ]
    assert len(problems) >= 30
    return problems


def test_crawl_problems_read_in_the_reports_language() -> None:
    """No English word of a problem sentence reaches the zh page (paths, URLs, job ids and an
    error's own message stay as written), and no raw code reaches the en page."""
    import re

    from monitor.reports.sections.health import problem_text

    for problem in _crawl_problems():
        zh = problem_text(problem, "zh")
        words_left = re.sub(r"[\w/:.-]*[/:.][\w/:.-]*|run\d\S*|Scrapyd|MB", "",
                            re.sub(r"RuntimeError: boom|disk I/O error", "", zh))
        assert not re.search(r"[A-Za-z]{2,}", words_left), (problem, zh)
        en = problem_text(problem, "en")
        assert "closespider_timeout" not in en and "disk_full" not in en, en
    assert problem_text("did not finish: closespider_timeout", "en") == "did not finish: time limit reached"
    assert problem_text("price coverage only 20%", "zh") == "价格字段覆盖率仅 20%"
    assert problem_text("something new went wrong", "zh") == "something new went wrong"
