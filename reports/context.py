"""The report's content as plain data: ``build_context`` turns the stats queries into one dict.

The context is pure data (numbers, strings, lists, dicts; JSON-able) so the HTML page and the
spreadsheet exports show the same figures, and a test can check figures without parsing
HTML. It reads the database only through ``monitor.storage.stats``, and the species groups (order,
names, colours, legal basis) from the lexicon folder's ``species.yaml``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from monitor.months import months_between, parse_month, shift_month

from . import rows
from .labels import (FAULT_NAMES, fault_name, legal_basis, species_colours, species_folder, species_groups,
                     species_name, species_names, words)

# How many rows the tables keep; the exports carry the same rows.
DEALER_LIMIT = 20
EXAMPLE_LIMIT = 30
MOVER_LIMIT = 3
# A term "rises" when it gained at least this many hits and at least half again last month's.
RISING_MIN_GAIN = 3
RISING_FACTOR = 1.5


def build_context(source: Any, month: str, lang: str = "zh", *, now: datetime | None = None,
                  keywords_dir: Path | str | None = None) -> dict[str, Any]:
    """Everything the report shows for ``month``, computed from the stats queries.

    ``source`` is a ``monitor.storage.Database`` (a session is opened and closed here) or an
    open SQLAlchemy session. ``now`` stamps the page (default: the clock, UTC).
    ``keywords_dir`` is the lexicon folder whose species.yaml orders, names and colours the
    species groups (the configured ``keywords_dir``; default: the shipped lexicon).
    """
    parse_month(month)
    labels = words(lang)
    with species_folder(keywords_dir):
        species_groups()  # a broken species.yaml stops here, before any query
        if hasattr(source, "session") and callable(source.session):
            with source.session() as session:
                return _build(session, month, lang, labels, now)
        return _build(source, month, lang, labels, now)


def _build(s: Any, month: str, lang: str, labels: Mapping[str, str], now: datetime | None) -> dict[str, Any]:
    from monitor.storage import stats

    previous_month = shift_month(month, -1)
    year_ago_month = shift_month(month, -12)
    data_months = sorted(stats.months_with_data(s))
    first_month = data_months[0] if data_months and data_months[0] <= month else month

    by_species = stats.new_flagged_by_species(s, month)
    by_species_prev = stats.new_flagged_by_species(s, previous_month)
    by_site = stats.new_flagged_by_site(s, month)
    by_site_prev = stats.new_flagged_by_site(s, previous_month)
    by_site_species = stats.new_flagged_by_site_species(s, month)
    reviews = stats.review_counts(s, month)
    trend_rows = stats.monthly_trend(s)
    summary = stats.new_flagged_summary(s, month)

    total = sum(by_site.values())
    total_prev = sum(by_site_prev.values())
    has_year_ago = year_ago_month in data_months
    total_year_ago = sum(stats.new_flagged_by_site(s, year_ago_month).values()) if has_year_ago else None
    has_prev = previous_month in data_months

    species_keys = _species_order(by_species, by_species_prev, reviews, trend_rows)
    species_rows = [
        {
            "species": sp,
            "name": species_name(sp, lang),
            "count": by_species.get(sp, 0),
            "previous": by_species_prev.get(sp, 0),
            "change": by_species.get(sp, 0) - by_species_prev.get(sp, 0),
            "share": rows.share(by_species.get(sp, 0), total),
            "confirmed": reviews.get(sp, {}).get("confirmed", 0),
            "candidate": reviews.get(sp, {}).get("candidate", 0),
            "rejected": reviews.get(sp, {}).get("rejected", 0),
            "legal_basis": legal_basis(sp, lang),
        }
        for sp in species_keys
    ]
    site_rows = [
        {
            "site": site,
            "count": by_site.get(site, 0),
            "previous": by_site_prev.get(site, 0),
            "change": by_site.get(site, 0) - by_site_prev.get(site, 0),
            "share": rows.share(by_site.get(site, 0), total),
            "by_species": {sp: n for (st, sp), n in sorted(by_site_species.items()) if st == site and n},
        }
        for site in sorted(set(by_site) | set(by_site_prev), key=lambda k: (-by_site.get(k, 0), k))
    ]

    # A request's 30- and 60-day outcomes are known only a month or two after it was sent,
    # so the report shows the requests of this month and of the two before it.
    takedown_history = []
    for request_month in (shift_month(month, -2), previous_month, month):
        site_outcomes = [rows.takedown_row(row) for row in stats.takedown_outcomes(s, request_month)]
        takedown_history.append({"month": request_month, "sites": site_outcomes, **rows.takedown_totals(site_outcomes)})
    with_requests = [h for h in takedown_history if h["requested"]]
    takedown_focus = with_requests[0] if with_requests else takedown_history[-1]
    removals = [rows.removal_row(row) for row in stats.removals(s, month)]
    health = [rows.health_row(row, lang) for row in stats.crawl_health(s, month)]
    unread = stats.removed_unread(s, month)
    not_crawled = stats.sites_not_crawled(s, month)
    terms = [rows.term_row(row, lang) for row in stats.term_hits(s, month)]
    dealers = [rows.dealer_row(row, lang) for row in stats.top_dealers(s, month, limit=DEALER_LIMIT)]
    examples = [rows.example_row(row, lang) for row in stats.example_ads(s, month, limit=EXAMPLE_LIMIT)]
    monthly_totals = stats.monthly_totals(s)

    return {
        "meta": {
            "month": month,
            "lang": lang,
            "previous_month": previous_month,
            "year_ago_month": year_ago_month,
            "first_month": first_month,
            "generated_at": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip(),
        },
        "labels": dict(labels),
        "species_names": species_names(lang),
        "fault_names": dict(FAULT_NAMES.get(lang, {})),
        "key_points": {
            "total": total,
            "previous": total_prev if has_prev else None,
            "year_ago": total_year_ago,
            "change_previous": total - total_prev if has_prev else None,
            "change_previous_pct": _pct_change(total, total_prev) if has_prev else None,
            "change_year_ago": total - total_year_ago if total_year_ago is not None else None,
            "change_year_ago_pct": _pct_change(total, total_year_ago) if total_year_ago is not None else None,
            "unique_ads": summary.get("unique_ads", total),
            "reposts": summary.get("reposts", 0),
            "species_movers": _movers(species_rows, "species", lambda r: r["name"]),
            "site_movers": _movers(site_rows, "site", lambda r: r["site"]),
            "takedown_month": takedown_focus["month"],
            "takedown_requested": takedown_focus["requested"],
            "takedown_removed_60": takedown_focus["removed_60"],
            "takedown_removed_share": takedown_focus["share_60"],
            "removed_this_month": sum(r["removed"] for r in removals),
            # Gone before the crawl could read them: never in "total" (new flagged ads).
            "removed_unread": sum(r["listings"] for r in unread),
            "removed_unread_flagged": sum(r["flagged_by_title"] for r in unread),
            "uncrawled_sites": [
                {"site": r["site"], "problems": r["problems"] or [_unhealthy_reason(r, labels, lang)]}
                for r in health if not r["healthy"]
            ] + [
                {"site": r["site"], "problems": [f"{labels['no_crawl_recorded']} ({labels['last_crawled']} {r['last_crawled_month']})"]}
                for r in not_crawled
            ],
            "sites_crawled": len(health),
        },
        "trend": _trend(trend_rows, monthly_totals, first_month, month, species_keys, lang),
        "species": species_rows,
        "sites": site_rows,
        "takedowns": takedown_focus["sites"],
        "takedown_totals": {k: v for k, v in takedown_focus.items() if k != "sites"},
        "takedown_history": [{k: v for k, v in h.items() if k != "sites"} for h in takedown_history],
        "removals": removals,
        "removed_unread": unread,
        "dealers": dealers,
        "terms": terms,
        "rising_terms": _rising(terms),
        "examples": examples,
        "health": health,
    }


def _unhealthy_reason(row: Mapping[str, Any], labels: Mapping[str, str], lang: str) -> str:
    """What to say of an unhealthy site whose crawl listed no problem."""
    if row["finish_reason"] and row["finish_reason"] != "finished":
        return row["finish_reason"]
    if row["error_total"]:
        return ", ".join(f"{fault_name(kind, lang)} {n}" for kind, n in row["errors"].items())
    return labels["not_ok"]


def _species_order(*sources: Any) -> list[str]:
    """The groups of species.yaml in its order, then any other key the data holds."""
    known = [g.key for g in species_groups()]
    seen: set[str] = set()
    for source in sources:
        if isinstance(source, Mapping):
            seen.update(source)
        else:
            seen.update(row[1] for row in source)
    return [sp for sp in known] + sorted(seen - set(known))


def _pct_change(now: int, before: int | None) -> float | None:
    if not before:
        return None
    return round((now - before) / before, 4)


def _movers(table: list[dict[str, Any]], key: str, name: Any) -> list[dict[str, Any]]:
    moved = [r for r in table if r["change"]]
    moved.sort(key=lambda r: (-abs(r["change"]), r[key]))
    return [
        {key: r[key], "name": name(r), "count": r["count"], "previous": r["previous"], "change": r["change"]}
        for r in moved[:MOVER_LIMIT]
    ]


def _trend(species_counts: Iterable[tuple[str, str, int]], totals_by_month: Mapping[str, int], first: str, last: str,
           species: list[str], lang: str) -> dict[str, Any]:
    months = months_between(first, last)
    index = {m: i for i, m in enumerate(months)}
    by_species = {sp: [0] * len(months) for sp in species}
    for m, sp, n in species_counts:
        if m in index:
            by_species.setdefault(sp, [0] * len(months))[index[m]] += int(n)
    totals = [int(totals_by_month.get(m, 0)) for m in months]
    colours = species_colours()
    return {
        "months": months,
        "total": totals,
        "by_species": {sp: series for sp, series in by_species.items() if any(series)},
        "names": {sp: species_name(sp, lang) for sp in by_species},
        "colours": {sp: colours[sp] for sp in by_species if sp in colours},
    }


def _rising(terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rising = [t for t in terms
              if t["change"] >= RISING_MIN_GAIN and t["hits"] >= RISING_FACTOR * max(t["previous"], 1)]
    rising.sort(key=lambda t: (-t["change"], t["term"]))
    return rising[:10]
