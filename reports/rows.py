"""One stats row in, one report row out: the shapes the templates and exports read.

Each function takes a row exactly as ``monitor.storage.stats`` returns it and gives plain
JSON-able values (dates as text, species with display names beside their keys), so the
templates stay free of logic and the exports write the same numbers.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Mapping

from monitor.crawlhealth import Reach, SiteHealth
from monitor.storage.cohorts import WINDOWS

from .codes import code_name
from .labels import kind_name, species_name, words

PHONE_KINDS = ("phone", "landline")
HIGHLIGHTED_FIELDS = ("title", "description")


def pairs(mapping: Mapping[str, Any]) -> str:
    """A small mapping as one spreadsheet cell: ``"a 1, b 2"``."""
    return ", ".join(f"{k} {v}" for k, v in mapping.items())


def share(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def when(value: Any) -> str:
    """A stored time as the report prints it (the date alone at midnight)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    return str(value)


def takedown_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A request cohort's outcome: per window its removals, share (``None`` while the window is
    pending), the baseline's rate and the difference in percentage points of rate."""
    out: dict[str, Any] = {"site": row["site"], "requested": row["requested"], "confirmed": row["confirmed"],
                           "baseline_ads": row["baseline_ads"]}
    for days in WINDOWS:
        decided = bool(row[f"decided_{days}"])
        rate = share(row[f"removed_{days}"], row["requested"]) if decided else None
        baseline = row[f"baseline_{days}"] if decided else None
        out.update({
            f"removed_{days}": row[f"removed_{days}"], f"share_{days}": rate, f"pending_{days}": not decided,
            f"baseline_{days}": baseline,
            f"difference_{days}": round(rate - baseline, 4) if rate is not None and baseline is not None else None,
        })
    out["intervals"] = {int(k): int(v) for k, v in row["intervals"].items()}
    return out


def takedown_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The cohort over all sites; each site's baseline weighted by its requests."""
    requested = sum(r["requested"] for r in rows)
    out: dict[str, Any] = {"requested": requested, "confirmed": sum(r["confirmed"] for r in rows),
                           "baseline_ads": sum(r["baseline_ads"] for r in rows)}
    for days in WINDOWS:
        removed = sum(r[f"removed_{days}"] for r in rows)
        pending = any(r[f"pending_{days}"] for r in rows)
        rate = share(removed, requested) if not pending else None
        with_baseline = [r for r in rows if r[f"baseline_{days}"] is not None]
        weight = sum(r["requested"] for r in with_baseline)
        baseline = (round(sum(r[f"baseline_{days}"] * r["requested"] for r in with_baseline) / weight, 4)
                    if weight and not pending else None)
        out.update({
            f"removed_{days}": removed, f"share_{days}": rate, f"pending_{days}": pending and bool(requested),
            f"baseline_{days}": baseline,
            f"difference_{days}": round(rate - baseline, 4) if rate is not None and baseline is not None else None,
        })
    intervals: Counter = Counter()
    for r in rows:
        intervals.update(r["intervals"])
    out["intervals"] = dict(sorted(intervals.items()))
    return out


def removal_row(row: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """A site's removals this month, by method code (``by_kind``) and by its name (``by_kind_names``)."""
    by_kind = dict(sorted(row["by_kind"].items()))
    return {"site": row["site"], "live_at_start": row["live_at_start"], "removed": row["removed"], "by_kind": by_kind,
            "by_kind_names": {code_name("removal", k, lang): n for k, n in by_kind.items()}}


def health_row(row: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """A site's crawl health; missing figures (a crawl that died early) read as zero. Its reach
    (what it searched and browsed) comes flat, for the spreadsheets, and as one plain sentence."""
    errors = row.get("errors") or {}
    coverage = row.get("coverage") or {}
    reach = SiteHealth.from_json(row).reach
    return {
        "site": row["site"],
        "pages": int(row.get("pages") or 0),
        "items": int(row.get("items") or 0),
        "errors": {str(k): int(v) for k, v in sorted(errors.items())},
        "error_total": sum(int(v) for v in errors.values()),
        "coverage": {k: float(coverage.get(k) or 0.0) for k in ("price", "date", "contact", "location")},
        "finish_reason": str(row.get("finish_reason") or ""),
        "finish_reason_name": code_name("finish", str(row.get("finish_reason") or ""), lang),
        "duration_s": float(row.get("duration_s") or 0.0),
        "healthy": bool(row.get("healthy", False)),
        "problems": [str(p) for p in row.get("problems") or []],
        "last_run": when(row.get("last_run")),
        "removed_unread": int(row.get("removed_unread") or 0),
        "queries": reach.queries, "query_pages": reach.query_pages, "browse_pages": reach.browse_pages,
        "only_browse": reach.only_browse, "single_query": reach.single_query, "requests": reach.requests,
        "flagged": reach.flagged, "requests_per_flagged": reach.requests_per_flagged,
        "reach_text": reach_text(reach, lang),
    }


def reach_text(reach: Reach, lang: str) -> str:
    """What a site's crawl looked at and how thinly its finds hang on it, in plain words."""
    t = words(lang)
    per_flagged = (t["reach_per_flagged"].format(n=f"{reach.requests_per_flagged:,.1f}")
                   if reach.requests_per_flagged is not None else t["reach_no_flagged"].format(n=f"{reach.requests:,}"))
    return t["reach"].format(queries=f"{reach.queries:,}", pages=f"{reach.browse_pages:,}",
                             only_browse=f"{reach.only_browse:,}", single=f"{reach.single_query:,}",
                             per_flagged=per_flagged)


def term_row(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    hits, previous = row["hits"], row["hits_last_month"]
    return {"term": row["term"], "species": row["species"], "species_name": species_name(row["species"], lang),
            "kind": row["kind"], "kind_name": kind_name(row["kind"], lang),
            "hits": hits, "previous": previous, "change": hits - previous}


def contact_text(contact: Mapping[str, str], lang: str = "zh") -> str:
    """A contact as its kind's name and its value (``微信 wanglao88``, ``WeChat wanglao88``)."""
    return f"{code_name('contact', contact['kind'], lang)} {contact['value']}"


def dealer_row(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    months = list(row["months_active"])
    return {
        "dealer_id": row["dealer_id"],
        "contacts": [contact_text(c, lang) for c in row["contacts"]],
        "new_ads": row["new_ads"],
        "confirmed_ads": row["confirmed_ads"],
        "ads": row["total_ads"],
        "ads_by_species": {species_name(k, lang): v for k, v in row["ads_by_species"].items()},
        "sites": sorted(row["sites"]),
        "months_active": len(months),
        "first_month": min(months, default=""),
        "last_month": max(months, default=""),
    }


def spans(matches: Iterable[Mapping[str, Any]], field: str) -> list[list[int]]:
    """The ``[start, end)`` offsets of the matches in ``field`` (offsets into the stored text)."""
    return sorted([int(m["start"]), int(m["end"])] for m in matches if m.get("field") == field)


def example_row(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A flagged ad in the published column layout, with what is needed to highlight its terms."""
    matches, contacts = row["matches"], row["contacts"]
    return {
        "site": row["site"],
        "external_id": row["external_id"],
        "title": row["title"] or "",
        "description": row["description"] or "",
        "price_text": row["price_text"] or "",
        "price_cny": row["price_cny"],
        "location": row["location"] or "",
        "seller": row["seller"] or "",
        "phones": [c["value"] for c in contacts if c["kind"] in PHONE_KINDS],
        "other_contacts": [contact_text(c, lang) for c in contacts if c["kind"] not in PHONE_KINDS],
        "posted": when(row["posted_at"]),
        "first_seen": when(row["first_seen"]),
        "url": row["url"] or "",
        "evidence_sha256": row["evidence_sha256"] or "",
        "species": [species_name(sp, lang) for sp in row["species"]],
        "species_keys": list(row["species"]),
        "review": row["review"],
        "terms": sorted({m["term"] for m in matches if m.get("term")}),
        "spans": {f: spans(matches, f) for f in HIGHLIGHTED_FIELDS},
    }
