"""The takedown package: one workbook a platform (or an officer) can act on, a sheet per platform.

Every row carries what a reader needs without opening the monitor: the ad's text, its price as
stated and in CNY, the seller and contacts in words (``微信 abc123``, never ``wechat:``), each
matched term with a gloss generated from the lexicon (its kind, its species' name in
``species.yaml`` and its ``note``), the species' legal basis, the dates of earlier requests for the
same ad, and the evidence file's name and SHA-256. Ads an analyst rejected are left out
(``monitor.storage.takedowns``). Scraped text is written as text, never as a formula.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from monitor.matching.lexicon import SHARED_FILES
from monitor.matching.species import shipped_folder
from monitor.spreadsheets import Sheet, write_csv, write_workbook
from monitor.storage import Database
from monitor.storage.takedowns import package_rows, safe_file_part
from monitor.storage.timeutil import check_month

from .codes import code_name
from .labels import kind_name, legal_basis, package_words, species_folder, species_name

TAKEDOWN_FIELDS = ("site_title", "url", "title", "description", "price_text", "price_cny", "seller", "contacts",
                   "terms", "species", "legal_basis", "earlier_requests", "evidence_sha256", "evidence_file",
                   "first_seen", "last_seen", "external_id", "listing_id")
WIDTHS = {"description": 70, "terms": 50, "legal_basis": 60, "title": 40, "url": 40, "evidence_sha256": 66}
_CJK = re.compile(r"[\u3400-\u9fff]")


def separator(lang: str) -> str:
    """Items of a list in one cell: the Chinese enumeration comma or an English semicolon."""
    return "；" if lang == "zh" else "; "


def colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def term_notes(keywords_dir: Path | str | None = None) -> dict[tuple[str, str], str]:
    """(species, term) -> the term's ``note`` in the lexicon folder's species files."""
    folder = Path(keywords_dir) if keywords_dir else shipped_folder()
    notes: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in SHARED_FILES:
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for term in document.get("terms") or []:
            if isinstance(term, dict) and term.get("note"):
                notes[(str(document.get("species")), str(term.get("term")))] = str(term["note"])
    return notes


def gloss(match: Mapping[str, str], lang: str, notes: Mapping[tuple[str, str], str]) -> str:
    """``白塑料: 象牙的暗语`` / ``白塑料: code word for ivory`` (the note added where the reader can
    read it: in Chinese text only on the Chinese sheet), the ad's spelling first when it differs."""
    words = package_words(lang)
    name = species_name(match["species"], lang)
    kind = kind_name(match["kind"], lang)
    text = words["gloss"].format(species=name if lang == "zh" else name.lower(), kind=kind)
    note = notes.get((match["species"], match["term"]), "")
    if note and (lang == "en" or _CJK.search(note)):
        text += f"（{note}）" if lang == "zh" else f" ({note})"
    shown = match["term"] if match.get("text") in ("", None, match["term"]) else f"{match['text']} → {match['term']}"
    return f"{shown}{colon(lang)}{text}"


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def takedown_cells(row: Mapping[str, Any], lang: str, titles: Mapping[str, str],
                   notes: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """One ad of the package as its cells, keyed by ``TAKEDOWN_FIELDS``."""
    sep = separator(lang)
    glosses = dict.fromkeys(gloss(m, lang, notes) for m in row["matches"])
    species = list(row["species"])
    return {
        "site_title": titles.get(row["site"], row["site"]), "url": row["url"], "title": row["title"],
        "description": row["description"], "price_text": row["price_text"],
        "price_cny": round(row["price_cny"], 2) if row["price_cny"] is not None else None,
        "seller": row["seller"],
        "contacts": sep.join(f"{code_name('contact', kind, lang)} {value}" for kind, value in row["contacts"]),
        "terms": sep.join(glosses), "species": sep.join(species_name(k, lang) for k in species),
        "legal_basis": "\n".join(f"{species_name(k, lang)}{colon(lang)}{legal_basis(k, lang)}" for k in species
                                 if legal_basis(k, lang)),
        "earlier_requests": sep.join(_day(d) for d in row["earlier_requests"]),
        "evidence_sha256": row["evidence_sha256"], "evidence_file": row["evidence_file"],
        "first_seen": _day(row["first_seen"]), "last_seen": _day(row["last_seen"]),
        "external_id": row["external_id"], "listing_id": row["listing_id"],
    }


def package_file(month: str, site: str | None, suffix: str = "xlsx") -> str:
    """The file name: from the month and the sanitised site name only, never from scraped text."""
    part = f"-{safe_file_part(site)}" if site else ""
    return f"takedown{part}-{month}.{suffix}"


def write_takedown_package(
    db: Database, month: str, out_dir: Path, site: str | None = None, lang: str = "zh",
    site_titles: Mapping[str, str] | None = None, keywords_dir: Path | str | None = None,
) -> tuple[list[Path], dict[str, int]]:
    """Write ``month``'s takedown workbook (one sheet per platform; only ``site``'s when given,
    with a CSV of the same rows beside it); returns the files and each site's count of ads."""
    check_month(month)
    words = package_words(lang)
    titles = dict(site_titles or {})
    with db.session() as s:
        rows = package_rows(s, month, site)
    notes = term_notes(keywords_dir)
    header = [words[f] for f in TAKEDOWN_FIELDS]
    by_site: dict[str, list[list[Any]]] = {}
    with species_folder(keywords_dir):
        for row in rows:
            cells = takedown_cells(row, lang, titles, notes)
            by_site.setdefault(row["site"], []).append([cells[f] for f in TAKEDOWN_FIELDS])
    sheets = [_sheet(name, header, table) for name, table in by_site.items()]
    if not sheets:
        sheets = [_sheet(words["sheet_empty"], header, [])]
    out_dir = Path(out_dir)
    files = [write_workbook(out_dir / package_file(month, site), sheets)]
    if site:
        files.append(write_csv(out_dir / package_file(month, site, "csv"), header, by_site.get(site, [])))
    return files, {name: len(table) for name, table in by_site.items()}


def _sheet(name: str, header: list[str], table: Iterable[list[Any]]) -> Sheet:
    """A platform's sheet, named by its short name (unique, file-safe); its title is in each row."""
    links = [header[TAKEDOWN_FIELDS.index("url")]]
    widths = {header[TAKEDOWN_FIELDS.index(f)]: w for f, w in WIDTHS.items()}
    return Sheet(name, header, list(table), links=links, widths=widths)
