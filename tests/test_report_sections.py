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
