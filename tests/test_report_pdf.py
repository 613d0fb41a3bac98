"""`wtm report --format pdf`: a real PDF from a real database, read back with poppler-utils.

Page 1 must carry the key points and the trend chart, every page a number and the running
header, tables must repeat their header on each page they cover, and every font (the CJK one
included) must be embedded so the briefing reads the same on a machine without Chinese fonts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.reports import build_context
from monitor.reports.labels import words
from monitor.reports.render import render_pdf
from monitor.storage import Database

import report_fixtures as fx

MONTH = "2025-03"
CJK_FONT_NAMES = ("WenQuanYi", "NotoSansCJK", "Noto-Sans-CJK", "SourceHanSans", "Source-Han-Sans")

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                reason="poppler-utils (pdftoppm) is not installed: `make test` installs it as root")


def poppler(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True, timeout=120).stdout


def page_count(pdf: Path) -> int:
    info = poppler("pdfinfo", str(pdf))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def page_number(text: str) -> tuple[int, int] | None:
    """The "N / M" the bottom margin box prints (the page's last line)."""
    found = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text.strip().splitlines()[-1].strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def page_text(pdf: Path, page: int) -> str:
    return poppler("pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdf-data")
    fx.make_database(folder).dispose()
    return folder


@pytest.fixture(scope="module", params=["zh", "en"])
def report(request: pytest.FixtureRequest, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    lang = request.param
    out = tmp_path_factory.mktemp("pdf") / f"report-{lang}.pdf"
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data_dir), "report", "--month", MONTH, "--format", "pdf", "--lang", lang,
              "--out", str(out)])
    assert exit_info.value.code == 0
    return lang, out


def test_page_one_holds_key_points_and_trend_chart(report: tuple[str, Path]) -> None:
    lang, pdf = report
    t = words(lang)
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = page_count(pdf)
    assert pages > 1
    png = poppler("pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(pdf), str(pdf.with_suffix("")))
    assert png == ""
    image = pdf.with_name(pdf.stem + "-1.png")
    assert image.stat().st_size > 5_000  # a drawn page, not a blank one
    width, height = int.from_bytes(image.read_bytes()[16:20], "big"), int.from_bytes(image.read_bytes()[20:24], "big")
    assert width < height  # the briefing's pages are upright; the wide tables follow on landscape pages
    first = page_text(pdf, 1)
    assert t["key_points"] in first
    assert t["new_flagged"] in first
    assert t["trend_total"] in first  # the total chart's caption: the chart itself is on page 1
    assert page_number(first) == (1, pages)


def test_every_page_has_its_number_and_the_running_header(report: tuple[str, Path]) -> None:
    lang, pdf = report
    t = words(lang)
    pages = page_count(pdf)
    for page in range(2, pages + 1):
        text = page_text(pdf, page)
        assert page_number(text) == (page, pages), page
        header = text.strip().splitlines()[0]
        assert t["title"] in header and MONTH in header, (page, header)


def test_fonts_are_embedded_cjk_included(report: tuple[str, Path]) -> None:
    lang, pdf = report
    rows = poppler("pdffonts", str(pdf)).splitlines()[2:]
    assert rows
    for row in rows:
        # name type encoding emb sub uni object ID: "emb" is the fourth column from the right
        assert row.split()[-5] == "yes", row
    if lang == "zh":
        assert any(name in row for row in rows for name in CJK_FONT_NAMES), (
            "no CJK font embedded (install fonts-wqy-microhei; `make test` does): " + "; ".join(rows))
        assert "网络野生动物非法贸易监测月报" in page_text(pdf, 1)


def test_long_tables_repeat_their_header_and_keep_rows_whole(data_dir: Path, tmp_path: Path) -> None:
    """The examples table over several pages: its header row on every page it covers, and no ad's
    row split between two pages (each row's title and its evidence hash stay on one page)."""
    db = Database(f"sqlite:///{data_dir / 'wtm.sqlite3'}")
    try:
        context = build_context(db, MONTH, "en", now=datetime(2025, 4, 1, 8, 0))
    finally:
        db.dispose()
    base = next(e for e in context["examples"] if e["external_id"] == "a5")
    context["examples"] = [{**base, "title": f"row-{n:03d} {base['title']}",
                            "description": "long description " * 12,
                            "evidence_sha256": f"{n:03d}" + "ab" * 30 + "c"} for n in range(80)]
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render_pdf(context))
    pages = page_count(pdf)
    covering = [p for p in range(1, pages + 1) if "row-0" in page_text(pdf, p)]
    assert len(covering) >= 2
    header = words("en")["col_title"]
    for page in covering:
        text = page_text(pdf, page)
        assert header in text, page
        for n in range(80):
            if f"row-{n:03d}" in text:
                assert f"{n:03d}abab" in text, (page, n)  # the row's last cell on the same page


def test_the_pdf_engine_fetches_nothing(tmp_path: Path) -> None:
    """Should markup ever reach the page, the PDF engine still reads no file and calls no server:
    its fetcher allows no protocol, and the PDF is written without what it refused."""
    from weasyprint import HTML

    from monitor.reports.render import no_fetcher

    secret = tmp_path / "secret.css"
    secret.write_text("p { color: red } p::after { content: 'LEAKED' }", encoding="utf-8")
    html = (f'<link rel="stylesheet" href="{secret.as_uri()}"><p>x</p>'
            f'<img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/x.png">')
    pdf = tmp_path / "fetch.pdf"
    pdf.write_bytes(HTML(string=html, url_fetcher=no_fetcher()).write_pdf())
    assert "LEAKED" not in page_text(pdf, 1) and "x" in page_text(pdf, 1)
    pdf.write_bytes(HTML(string=html).write_pdf())  # the default fetcher would have read it
    assert "LEAKED" in page_text(pdf, 1)
