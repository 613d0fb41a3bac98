"""Species as data: keywords/species.yaml is the one list of species groups.

A ninth group added in YAML alone (species.yaml plus its lexicon file, no code) is flagged by
the matcher, counted by the storage layer and named and coloured by the report; mistakes in
species.yaml stop the load with errors naming file, line and field.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest

from monitor.config import load_config
from monitor.exceptions import KeywordFileError
from monitor.matching import Lexicon, Matcher, load_species, species_table
from monitor.reports import build_context, render_report
from monitor.reports.labels import legal_basis, species_colours, species_name
from monitor.storage import CrawlRecorder, stats
from storage_db import at, item, open_db

MONTH = "2025-06"
BEAR_COLOUR = "#6A3D9A"
BEAR_GROUP = f"""
  - key: bear
    zh: 熊
    en: Asiatic black bear
    colour: "{BEAR_COLOUR}"
    legal_basis:
      zh: "《濒危野生动植物种国际贸易公约》附录I；国家二级保护野生动物；《中华人民共和国野生动物保护法》"
      en: "CITES Appendix I; national second-class protected wildlife; PRC Wildlife Protection Law"
"""
BEAR_LEXICON = """# Asiatic black bear: bile and paws (a test group).
species: bear
label: Bear bile and paws
terms:
  - {term: 熊胆, kind: name}
  - {term: 熊胆粉, kind: product}
  - {term: 熊胆汁, kind: product}
  - {term: 熊掌, kind: product}
search_keywords: [熊胆, 熊胆粉, 熊掌]
exclusions: [熊掌豆腐, 熊掌木, 熊掌号, 鱼与熊掌]
"""
HEALTH = {"pages": 2, "items": 4, "errors": {}, "finish_reason": "finished", "duration_s": 1.0,
          "coverage": {"price": 1.0, "date": 1.0, "contact": 1.0, "location": 1.0}, "healthy": True, "problems": []}
LISTINGS = [  # (external id, title, flagged species)
    ("b1", "熊胆粉 正品 10克", ["bear"]),
    ("b2", "野生黑熊 熊掌 一对", ["bear"]),
    ("b3", "老象牙手镯 送熊胆粉", ["ivory", "bear"]),
    ("n1", "熊掌豆腐 家常菜 做法", []),      # an innocent compound of the bear's lexicon
    ("n2", "熊猫 小熊 毛绒玩具", []),         # toys: no bear term at all
]


def shipped_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicon"
    folder.mkdir()
    for path in Path(Lexicon.load().source).glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder


def add_bear(folder: Path) -> Path:
    species = folder / "species.yaml"
    species.write_text(species.read_text(encoding="utf-8").rstrip("\n") + "\n" + BEAR_GROUP, encoding="utf-8")
    (folder / "bear.yaml").write_text(BEAR_LEXICON, encoding="utf-8")
    return folder


@pytest.fixture()
def bear_folder(tmp_path: Path) -> Path:
    return add_bear(shipped_copy(tmp_path))


@pytest.fixture()
def matcher(bear_folder: Path, tmp_path: Path) -> Matcher:
    return Matcher(Lexicon.load(bear_folder), cache_dir=tmp_path / "cache")


# --- the shipped file ----------------------------------------------------------------------


def test_shipped_file_keeps_the_report_names_colours_and_order() -> None:
    """What the report showed before species.yaml, pinned: nothing visible changed."""
    groups = load_species()
    assert [(g.key, g.zh, g.en, g.colour) for g in groups] == [
        ("ivory", "象牙", "Ivory", "#0072B2"),
        ("rhino_horn", "犀牛角", "Rhino horn", "#E69F00"),
        ("hawksbill", "玳瑁", "Hawksbill turtle", "#009E73"),
        ("hornbill", "盔犀鸟", "Helmeted hornbill", "#CC79A7"),
        ("tiger", "虎", "Tiger", "#D55E00"),
        ("saiga", "赛加羚羊", "Saiga antelope", "#56B4E9"),
        ("pangolin", "穿山甲", "Pangolin", "#999933"),
        ("leopard", "豹", "Leopard", "#000000"),
    ]
    assert [g.order for g in groups] == list(range(8))
    assert Lexicon.load().species == [g.key for g in groups]
    for g in groups:
        assert "CITES Appendix" in g.legal_basis_en and "341" in g.legal_basis_en
        assert "濒危野生动植物种国际贸易公约" in g.legal_basis_zh and "第三百四十一条" in g.legal_basis_zh
    assert "Appendix II" in groups[5].legal_basis_en and "103号" in groups[0].legal_basis_en
    with pytest.raises(dataclasses.FrozenInstanceError):
        groups[0].zh = "x"  # type: ignore[misc]


def test_report_labels_read_the_shipped_file() -> None:
    assert species_name("ivory", "zh") == "象牙" and species_name("hornbill", "en") == "Helmeted hornbill"
    assert species_name("dodo", "zh") == "dodo"  # an unknown key shows as itself
    assert species_colours()["pangolin"] == "#999933"
    assert "国办发〔2016〕103号" in legal_basis("ivory", "zh") and legal_basis("dodo", "en") == ""


# --- a ninth species from YAML alone -------------------------------------------------------


def test_new_species_is_flagged_in_the_files_order(matcher: Matcher) -> None:
    assert matcher.lexicon.species[-1] == "bear" and matcher.lexicon.group("bear").zh == "熊"
    for _, title, species in LISTINGS:
        result = matcher.match({"title": title, "description": ""})
        assert result.species == species, (title, result)
    assert matcher.match({"title": "xiong胆粉 10克"}).species == ["bear"]  # spellings are generated too
    assert {k.term for k in matcher.lexicon.search_keywords("bear")} == {"熊胆", "熊胆粉", "熊掌"}


def test_new_species_is_counted_and_reported(bear_folder: Path, matcher: Matcher, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = open_db(f"sqlite:///{data_dir / 'wtm.sqlite3'}", data_dir)
    try:
        run = db.start_run("monthly", at(MONTH), MONTH)
        with CrawlRecorder(db, run_id=run, site="alpha", observed_at=at(MONTH)) as rec:
            for external_id, title, _ in LISTINGS:
                result = matcher.match({"title": title})
                rec.add(item(external_id, site="alpha", title=title), matches=[m.to_dict() for m in result.matches],
                        lexicon_version=matcher.lexicon.version, flagged=result.flagged, species=result.species,
                        score=result.score)
            rec.finish(HEALTH)
        db.finish_run(run, at(MONTH))
        with db.session() as s:
            assert stats.new_flagged_by_species(s, MONTH) == {"bear": 3, "ivory": 1}
            assert stats.new_flagged_by_site_species(s, MONTH) == {("alpha", "bear"): 3, ("alpha", "ivory"): 1}
        context = build_context(db, MONTH, "en", keywords_dir=bear_folder)
        shipped = build_context(db, MONTH, "en")
    finally:
        db.dispose()

    bear = next(r for r in context["species"] if r["species"] == "bear")
    assert bear["name"] == "Asiatic black bear" and bear["count"] == 3
    assert bear["legal_basis"].startswith("CITES Appendix I")
    assert [r["species"] for r in context["species"]][-1] == "bear"  # the file's order
    assert context["trend"]["colours"]["bear"] == BEAR_COLOUR
    # the shipped file does not know the group: it is still counted, shown by its key
    assert next(r for r in shipped["species"] if r["species"] == "bear")["name"] == "bear"

    config = load_config(None, {"data_dir": str(data_dir), "keywords_dir": str(bear_folder)}, environ={})
    page = render_report(config, MONTH, now=datetime(2025, 7, 1)).read_text(encoding="utf-8")
    tree = lxml.html.fromstring(page)
    rows = {r.xpath("string(th)"): r.xpath("string(td[1])") for r in tree.xpath("//section[@id='species']//tbody/tr")}
    assert rows["熊"] == "3" and rows["象牙"] == "1"
    chart = tree.xpath("//*[@id='trend-species']")
    assert chart and f"stroke: {BEAR_COLOUR.lower()}" in lxml.html.tostring(chart[0], encoding="unicode")
    tags = {t.text_content() for t in tree.xpath("//section[@id='examples']//span[@class='species']")}
    assert tags == {"熊", "象牙"}

    exported = json.loads(render_report(config, MONTH, tmp_path / "r.json", fmt="json").read_text(encoding="utf-8"))
    row = next(r for r in exported["tables"]["species"] if r["species"] == "bear")
    assert row["name"] == "熊" and row["count"] == 3 and row["legal_basis"].startswith("《濒危野生动植物种国际贸易公约》")


def test_species_table_follows_edits(bear_folder: Path) -> None:
    assert species_table(bear_folder)[-1].en == "Asiatic black bear"
    path = bear_folder / "species.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("en: Asiatic black bear", "en: Moon bear"),
                    encoding="utf-8")
    assert species_table(bear_folder)[-1].en == "Moon bear"


# --- mistakes name file, line and field ----------------------------------------------------


def _line_of(path: Path, text: str) -> int:
    """The line of the last occurrence of ``text`` (the bear is the file's last entry)."""
    return max(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _error(folder: Path) -> str:
    with pytest.raises(KeywordFileError) as err:
        Lexicon.load(folder)
    with pytest.raises(KeywordFileError) as again:
        load_species(folder)
    assert str(again.value) == str(err.value)  # the reports' loader says the same
    return str(err.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('colour: "#6A3D9A"', "colour: purple", r"species\[8\]\.colour: expected a hex colour such as \"#0072B2\", got 'purple'"),
    ('colour: "#6A3D9A"', "colour: #6A3D9A", r"species\[8\]\.colour: missing required field \(write it quoted"),
    ('colour: "#6A3D9A"', 'colour: "#56b4e9"', r"species\[8\]\.colour: #56b4e9 is already the colour of saiga"),
    ("- key: bear", "- key: tiger", r"species\[8\]\.key: duplicate key 'tiger' \(already species\[4\]\)"),
    ("- key: bear", "- key: Black-Bear", r"species\[8\]\.key: expected at most 30 lower-case"),
    ("    colour:", "    color:", r"species\[8\]\.color: unknown field"),
    ('      en: "CITES', '      fr: "CITES', r"species\[8\]\.legal_basis\.fr: unknown field"),
])
def test_bad_entries_name_file_line_and_field(bear_folder: Path, old: str, new: str, expected: str) -> None:
    path = bear_folder / "species.yaml"
    text = path.read_text(encoding="utf-8")
    at_bear = text.index("  - key: bear")
    assert old in text[at_bear:], old
    path.write_text(text[:at_bear] + text[at_bear:].replace(old, new, 1), encoding="utf-8")
    line = text[:at_bear].count("\n") + 1 + text[at_bear:text.index(old, at_bear)].count("\n")
    message = _error(bear_folder)
    assert message.startswith(f"{path}:{line}: "), message
    assert re.search(expected, message), message


def test_missing_name_names_the_entry(bear_folder: Path) -> None:
    path = bear_folder / "species.yaml"
    _edit(path, "    en: Asiatic black bear\n", "")
    message = _error(bear_folder)
    assert message == f"{path}:{_line_of(path, '- key: bear')}: species[8].en: missing required field"


def test_legal_basis_needs_both_languages(bear_folder: Path) -> None:
    path = bear_folder / "species.yaml"
    text = path.read_text(encoding="utf-8")
    zh_line = next(line for line in BEAR_GROUP.splitlines() if line.startswith("      zh:"))
    assert text.count(zh_line) == 1
    path.write_text(text.replace(zh_line + "\n", ""), encoding="utf-8")
    message = _error(bear_folder)
    assert message == f"{path}:{_line_of(path, 'legal_basis:') + 1}: species[8].legal_basis.zh: missing required field"


def test_lexicon_file_for_an_unlisted_species_is_named(tmp_path: Path) -> None:
    folder = shipped_copy(tmp_path)
    (folder / "bear.yaml").write_text(BEAR_LEXICON, encoding="utf-8")  # species.yaml not told
    with pytest.raises(KeywordFileError, match=r"bear\.yaml:2: species: unknown species key 'bear' "
                                               r"\(expected one of ivory, .*, leopard; .*species\.yaml first\)"):
        Lexicon.load(folder)


def test_listed_species_without_a_lexicon_file(bear_folder: Path) -> None:
    (bear_folder / "bear.yaml").unlink()
    with pytest.raises(KeywordFileError, match=r"no lexicon file for species: bear \(listed in species\.yaml\)"):
        Lexicon.load(bear_folder)


def test_missing_or_empty_species_file(tmp_path: Path) -> None:
    folder = shipped_copy(tmp_path)
    path = folder / "species.yaml"
    path.write_text("species: []\n", encoding="utf-8")
    with pytest.raises(KeywordFileError, match=rf"^{re.escape(str(path))}:1: species: expected a non-empty list"):
        Lexicon.load(folder)
    path.write_text("groups: []\n", encoding="utf-8")
    with pytest.raises(KeywordFileError, match=rf"^{re.escape(str(path))}:1: groups: unknown field"):
        Lexicon.load(folder)
    path.unlink()
    with pytest.raises(KeywordFileError, match=rf"^{re.escape(str(path))}: missing"):
        Lexicon.load(folder)
