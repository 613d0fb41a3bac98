"""The dealer dossier: one workbook per dealer for an enforcement officer.

Sheets: contacts (a mobile number written with a digit missing marked), names used, sites, every
ad with its dates, prices, status and takedown requests, the requests, and a monthly timeline.
The workbench's dealer page links to a route calling ``write_dossier``; ``wtm dealers dossier``
writes the same file. Scraped text (titles, names) is written as text, never as a formula.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from monitor.spreadsheets import Sheet, write_workbook
from monitor.storage import Database
from monitor.storage.dossier import dealer_dossier

from .codes import code_name
from .labels import package_words, species_name
from .packages import separator

INCOMPLETE_MARK = "†"


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")


def status(ad: Mapping[str, Any], lang: str) -> str:
    """"online", or "removed: how, when" in ``lang``."""
    words = package_words(lang)
    if ad["removed_at"] is None:
        return words["online"]
    return words["removed"].format(how=code_name("removal", ad["removal_kind"] or "unknown", lang),
                                   when=_when(ad["removed_at"]))


def _outcome(request: Mapping[str, Any], lang: str) -> str:
    if request["removed_at"] is None:
        return package_words(lang)["still_online"]
    return status({"removed_at": request["removed_at"], "removal_kind": request["removal_kind"]}, lang)


def dossier_sheets(dossier: Mapping[str, Any], lang: str = "zh",
                   site_titles: Mapping[str, str] | None = None) -> list[Sheet]:
    """The dossier's sheets with headers and cells in ``lang``."""
    w = package_words(lang)
    sep = separator(lang)
    titles = dict(site_titles or {})

    def site(name: str) -> str:
        return titles.get(name, name)

    def sheet(key: str, fields: list[str], rows: list[list[Any]], **extra: Any) -> Sheet:
        return Sheet(w[f"sheet_{key}"], [w[f] for f in fields], rows, **extra)

    contacts = [[code_name("contact", c["kind"], lang), c["value"], INCOMPLETE_MARK if c["incomplete"] else "",
                 c["ads"], _when(c["first_seen"])] for c in dossier["contacts"]]
    names = [[n["seller"], n["ads"], _when(n["first_seen"]), _when(n["last_seen"])] for n in dossier["names"]]
    sites = [[site(e["site"]), e["ads"], _when(e["first_seen"]), _when(e["last_seen"])] for e in dossier["sites"]]
    ads = [[site(a["site"]), a["url"], a["title"], sep.join(species_name(k, lang) for k in a["species"]),
            a["price_text"], round(a["price_cny"], 2) if a["price_cny"] is not None else None, _when(a["posted_at"]),
            _when(a["first_seen"]), _when(a["last_seen"]), status(a, lang),
            sep.join(_when(r["sent_at"]) for r in a["requests"]),
            code_name("decision", a["review"] or "candidate", lang) if a["flagged"] else "", a["listing_id"]]
           for a in dossier["ads"]]
    requests = [[_when(r["sent_at"]), r["month"], site(r["site"]), r["url"], r["title"], _outcome(r, lang)]
                for r in dossier["requests"]]
    timeline = [[t["month"], t["seen"], t["new"], t["removed"]] for t in dossier["timeline"]]
    url_header = [w["url"]]
    return [
        sheet("contacts", ["kind", "value", "incomplete", "ads", "first_seen"], contacts),
        sheet("names", ["seller", "ads", "first_seen", "last_seen"], names),
        sheet("sites", ["site_title", "ads", "first_seen", "last_seen"], sites),
        sheet("ads", ["site_title", "url", "title", "species", "price_text", "price_cny", "posted_at", "first_seen",
                      "last_seen", "status", "requests", "review", "listing_id"], ads,
              links=url_header, widths={w["title"]: 40, w["url"]: 40}),
        sheet("requests", ["sent_at", "month", "site_title", "url", "title", "outcome"], requests,
              links=url_header, widths={w["title"]: 40, w["url"]: 40}),
        sheet("timeline", ["month", "ads_seen", "new_ads", "removed_ads"], timeline),
    ]


def write_dossier(db: Database, dealer_id: int, out: Path | BinaryIO, lang: str = "zh", *,
                  site_titles: Mapping[str, str] | None = None) -> None:
    """Write dealer ``dealer_id``'s dossier as XLSX to ``out`` (a path or an open binary file).

    Raises ``ConfigError`` naming the id when the database has no such dealer."""
    package_words(lang)  # an unknown language fails before anything is read
    with db.session() as s:
        dossier = dealer_dossier(s, int(dealer_id))
    write_workbook(Path(out) if isinstance(out, (str, Path)) else out, dossier_sheets(dossier, lang, site_titles))
