"""The monthly report: figures from a real SQLite database, hostile text kept inert, exports, CLI."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest
from openpyxl import load_workbook

from monitor.cli import EXIT_DB_OUTDATED, main
from monitor.config import load_config
from monitor.reports import build_context, last_complete_month, render_html, render_report, write_tables
from monitor.reports.render import highlight, link
from monitor.storage import Database

import report_fixtures as fx

MONTH = "2025-03"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-data")
    fx.make_database(folder).dispose()
    return folder


@pytest.fixture(scope="module")
def db(data_dir: Path) -> Database:
    database = Database(f"sqlite:///{data_dir / 'wtm.sqlite3'}")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def context(db: Database) -> dict:
    return build_context(db, MONTH, "zh", now=datetime(2025, 4, 1, 8, 0))


@pytest.fixture(scope="module")
def page(context: dict) -> str:
    return render_html(context)


def test_figures_match_what_was_recorded(context: dict) -> None:
    species = {r["species"]: r["count"] for r in context["species"] if r["count"]}
    assert species == fx.EXPECTED_SPECIES
    sites = {r["site"]: r["count"] for r in context["sites"] if r["count"]}
    assert sites == fx.EXPECTED_SITES
    key = context["key_points"]
    assert key["total"] == 5 and key["previous"] == 4 and key["change_previous"] == 1
    assert key["year_ago"] is None  # no data for 2024-03: said, not shown as zero
    assert dict(zip(context["trend"]["months"], context["trend"]["total"])) == fx.EXPECTED_TOTALS
    assert context["trend"]["by_species"]["ivory"] == [2, 2, 4]
    shares = {r["site"]: r["share"] for r in context["sites"]}
    assert shares["alpha"] == 0.8 and shares["beta"] == 0.2
    change = {r["site"]: r["change"] for r in context["sites"]}
    assert change == {"alpha": 3, "beta": -1, "gamma": -1}
    assert context["key_points"]["species_movers"][0]["species"] == "ivory"  # 1 -> 4


def test_removals_and_candidates(context: dict) -> None:
    removals = {r["site"]: (r["live_at_start"], r["removed"], r["by_kind"]) for r in context["removals"]}
    assert removals["alpha"] == (3, 1, {"http_404": 1})
    assert removals["beta"] == (3, 1, {"deleted_page": 1})
    assert context["key_points"]["removed_this_month"] == 2
    ivory = next(r for r in context["species"] if r["species"] == "ivory")
    assert (ivory["confirmed"], ivory["candidate"]) == (0, 4)


def test_coverage_gaps_are_stated(context: dict, page: str) -> None:
    gaps = {g["site"]: g["problems"] for g in context["key_points"]["uncrawled_sites"]}
    assert set(gaps) == {"delta", "gamma"}
    assert gaps["delta"] == ["every search page answered HTTP 503"]
    assert "2025-02" in gaps["gamma"][0]
    tree = lxml.html.fromstring(page)
    gap_text = tree.xpath('string(//section[@id="key-points"]//li[@class="gap"])')
    assert "delta" in gap_text and "gamma" in gap_text and "HTTP 503" in gap_text
    health = {h["site"]: h["healthy"] for h in context["health"]}
    assert health == {"alpha": True, "beta": True, "delta": False}


def test_examples_carry_contacts_evidence_and_highlights(context: dict, page: str) -> None:
    evil = next(e for e in context["examples"] if e["external_id"] == "evil")
    assert evil["phones"] == ["13912345678"]
    assert len(evil["evidence_sha256"]) == 64
    tree = lxml.html.fromstring(page)
    marks = [m.text for m in tree.xpath('//table[@class="examples"]//mark')]
    assert marks.count("象牙") == len(context["examples"])
    assert evil["evidence_sha256"][:16] in page


def test_hostile_text_renders_as_text_only(page: str) -> None:
    tree = lxml.html.fromstring(page)
    fx.assert_page_is_inert(tree)
    # Everything hostile is shown, verbatim, as text.
    text = tree.text_content()
    for needle in (fx.HOSTILE_TITLE, fx.HOSTILE_URL, fx.HOSTILE_TERM, fx.HOSTILE_SELLER):
        assert needle in text
    assert "{{ 7*7 }}" in text and "{% raw %}" in text
    row = tree.xpath('//tr[@class="ad"][.//span[@class="url" and text()="javascript:alert(5)"]]')
    assert len(row) == 1
    cells = row[0].xpath("./td[not(@class='link')]")
    assert len(cells) == 8  # the CNY price among them
    assert sum("{{ 7*7 }}" in c.text_content() for c in cells) == 4  # title, description, location, seller
    assert all("49" not in c.text_content() for c in cells)


def test_highlight_escapes_each_piece_and_merges_spans() -> None:
    text = "<b>象牙</b>&象牙"
    out = str(highlight(text, [[3, 5], [4, 5], [12, 99], [9, 8]]))
    assert out == "&lt;b&gt;<mark>象牙</mark>&lt;/b&gt;&amp;象牙"
    assert str(highlight("a<script>", [[1, 9]])) == "a<mark>&lt;script&gt;</mark>"
    assert str(highlight("", None)) == ""


@pytest.mark.parametrize("url, linked", [
    ("https://example.org/item/1.html?a=1&b=2", True),
    ("http://127.0.0.1:8000/x", True),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    (" javascript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ('http://x.org/"onmouseover="alert(1)', False),
    ("http://x.org/a b", False),
    ("//evil.example/x", False),
])
def test_only_http_links(url: str, linked: bool) -> None:
    out = lxml.html.fragment_fromstring(str(link(url)), create_parent="div")
    anchors = out.xpath("//a")
    assert bool(anchors) is linked
    if linked:
        assert anchors[0].get("href") == url
    assert out.text_content() == url.strip()


def test_page_is_self_contained_and_bilingual(context: dict, page: str, db: Database) -> None:
    tree = lxml.html.fromstring(page)
    assert tree.get("lang") == "zh-CN"
    assert [h.text for h in tree.xpath("//h2")][:2] == ["要点", "趋势 "]
    assert len(tree.xpath("//figure//*[local-name()='svg']")) == 2
    assert "@media print" in page
    csp = tree.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    assert "default-src 'none'" in csp and "script-src" not in csp
    for element in tree.iter():
        for name in ("src", "href"):
            value = element.get(name) or ""
            assert not value.startswith(("http://cdn", "https://")) or element.tag == "a"
    english = render_html(build_context(db, MONTH, "en"))
    tree_en = lxml.html.fromstring(english)
    assert tree_en.get("lang") == "en"
    assert tree_en.xpath("//h2")[0].text == "Key points"
    assert "Ivory" in english


def test_exports_share_the_figures(context: dict, tmp_path: Path) -> None:
    xlsx = write_tables(context, "xlsx", tmp_path / "r.xlsx")
    book = load_workbook(xlsx)
    assert {"summary", "trend", "species", "sites", "takedowns", "dealers", "terms", "examples", "health"} <= set(book.sheetnames)
    sheet = book["sites"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    counts = {r[header.index("site")]: r[header.index("count")] for r in rows[1:]}
    assert counts["alpha"] == 4 and counts["beta"] == 1
    examples = list(book["examples"].iter_rows(values_only=True))
    price = examples[0].index("price_text")
    evil = next(r for r in examples[1:] if r[examples[0].index("external_id")] == "evil")
    assert evil[price] == '=HYPERLINK("http://x")'
    cell = next(c for c in book["examples"][examples.index(evil) + 1] if c.value == evil[price])
    assert cell.data_type == "s"  # text, not a formula

    folder = write_tables(context, "csv", tmp_path / "csv")
    with (folder / "species.csv").open(encoding="utf-8-sig") as handle:
        species = {r["species"]: int(r["count"]) for r in csv.DictReader(handle)}
    assert {k: v for k, v in species.items() if v} == fx.EXPECTED_SPECIES
    with (folder / "examples.csv").open(encoding="utf-8-sig") as handle:
        evil_row = next(r for r in csv.DictReader(handle) if r["external_id"] == "evil")
    assert evil_row["price_text"].startswith("'=")

    data = json.loads(write_tables(context, "json", tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["key_points"]["total"] == 5
    assert data["tables"]["trend"][-1] == {"month": "2025-03", "total": 5, "confirmed": 0, "change": 1, "has_data": True,
                                           "ivory": 4, "rhino_horn": 1,
                                           "tiger": 1, "pangolin": 0}


def test_render_report_default_path_and_month(data_dir: Path, db: Database) -> None:
    config = load_config(None, {"data_dir": str(data_dir)})
    assert last_complete_month(db, datetime(2025, 4, 2)) == "2025-03"
    assert last_complete_month(db, datetime(2025, 3, 2)) == "2025-02"  # March still running
    path = render_report(config, None, now=datetime(2025, 4, 2))
    assert path == data_dir / "reports" / "report-2025-03.html"
    assert "2025-03" in path.read_text(encoding="utf-8")
    xlsx = render_report(config, "2025-02", fmt="xlsx")
    assert xlsx.name == "report-2025-02.xlsx" and xlsx.exists()
    folder = data_dir / "elsewhere"
    folder.mkdir()
    assert render_report(config, "2025-02", folder, fmt="json") == folder / "report-2025-02.json"


def test_cli_writes_and_prints_the_path(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "briefing.html"
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data_dir), "report", "--month", MONTH, "--out", str(out), "--lang", "en"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert "Key points" in out.read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data_dir), "report", "--month", "2025-13"])
    assert exit_info.value.code == 2


def test_cli_refuses_an_outdated_database(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    Database(f"sqlite:///{empty / 'wtm.sqlite3'}").dispose()
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(empty), "report", "--month", MONTH])
    assert exit_info.value.code == EXIT_DB_OUTDATED
    assert "wtm db upgrade" in capsys.readouterr().err
    assert not (empty / "reports").exists()


def test_label_keys_do_not_shadow_dict_methods() -> None:
    from monitor.reports.labels import WORDS

    assert set(WORDS["zh"]) == set(WORDS["en"])
    assert not set(WORDS["zh"]) & set(dir(dict)), "templates read t.<key>; a dict method would win"


@pytest.mark.postgres
def test_same_figures_on_postgresql(tmp_path: Path, context: dict) -> None:
    from storage_db import postgres_schema_url

    urls = postgres_schema_url()
    url = next(urls)
    try:
        db = Database(url, evidence_dir=tmp_path / "evidence")
        db.upgrade()
        fx.fill(db)
        on_postgres = build_context(db, MONTH, "zh", now=datetime(2025, 4, 1, 8, 0))
        db.dispose()
    finally:
        urls.close()
    for section in ("key_points", "species", "sites", "places", "trend", "removals", "takedown_history", "terms", "health"):
        assert on_postgres[section] == context[section], section
    strip = [{k: v for k, v in e.items() if k != "evidence_sha256"} for e in on_postgres["examples"]]
    assert strip == [{k: v for k, v in e.items() if k != "evidence_sha256"} for e in context["examples"]]


def test_empty_database_renders_and_says_so(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    db.upgrade()
    context = build_context(db, MONTH, "en")
    db.dispose()
    assert context["key_points"]["total"] == 0 and context["key_points"]["previous"] is None
    tree = lxml.html.fromstring(render_html(context))
    assert "No crawl was recorded this month." in tree.text_content()
    assert len(tree.xpath("//figure//*[local-name()='svg']")) == 2


@pytest.mark.parametrize("markup", [
    '<p><script>alert(1)</script></p>',
    '<p><img src="x" onerror="alert(1)"></p>',
    '<p><span onmouseover="alert(1)">x</span></p>',
    '<p><a class="url" href="javascript:alert(1)">x</a></p>',
    '<main><p><b>x</b></p></main>',
    '<p><svg onload="alert(1)"></svg></p>',
])
def test_inertness_check_catches_injected_markup(markup: str) -> None:
    tree = lxml.html.fromstring(f"<html><body>{markup}</body></html>")
    with pytest.raises(AssertionError):
        fx.assert_page_is_inert(tree)


def test_species_keep_their_colour_across_reports() -> None:
    from monitor.reports.charts import SPECIES_COLOURS, trend_species_svg

    alone = trend_species_svg(["2025-01", "2025-02"], {"pangolin": [1, 2]}, {}, "t")
    both = trend_species_svg(["2025-01", "2025-02"], {"ivory": [3, 1], "pangolin": [1, 2]}, {}, "t")
    colour = SPECIES_COLOURS["pangolin"].lower()
    assert f"stroke: {colour}" in alone and f"stroke: {colour}" in both
    assert "<script" not in both and not both.startswith("<?xml")
