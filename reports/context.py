"""The report's content as plain data: ``build_context`` turns the stats queries into one dict.

The context is pure data (numbers, strings, lists, dicts; JSON-able) so the HTML page and the
spreadsheet exports show the same figures, and a test can check figures without parsing
HTML. Its entries are the report sections' (``reports.sections``), each computed from
``monitor.storage.stats`` alone, and the species groups (order, names, colours, legal basis)
come from the lexicon folder's ``species.yaml``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from monitor.months import parse_month, shift_month

from .labels import FAULT_NAMES, species_folder, species_groups, species_names, words
from .sections import Query, build_all


def build_context(source: Any, month: str, lang: str = "zh", *, now: datetime | None = None,
                  keywords_dir: Path | str | None = None, site_titles: Mapping[str, str] | None = None,
                  full: bool = False) -> dict[str, Any]:
    """Everything the report shows for ``month``, computed from the stats queries.

    ``source`` is a ``monitor.storage.Database`` (a session is opened and closed here) or an
    open SQLAlchemy session. ``now`` stamps the page (default: the clock, UTC).
    ``keywords_dir`` is the lexicon folder whose species.yaml orders, names and colours the
    species groups (the configured ``keywords_dir``; default: the shipped lexicon).
    ``site_titles`` maps site names to the titles the page shows (from the site files; the
    database knows only names). ``full``: the lists the page shows capped (examples, dealers)
    are built whole, for the exports.
    """
    parse_month(month)
    labels = words(lang)
    with species_folder(keywords_dir):
        species_groups()  # a broken species.yaml stops here, before any query
        if hasattr(source, "session") and callable(source.session):
            with source.session() as session:
                context = _build(session, month, lang, labels, now, full)
        else:
            context = _build(source, month, lang, labels, now, full)
    context["site_titles"] = dict(site_titles or {})
    return context


def _build(s: Any, month: str, lang: str, labels: Mapping[str, str], now: datetime | None, full: bool) -> dict[str, Any]:
    """The sections' entries, every figure as known at the end of ``month`` (the session
    carries the month, so each stats query reads that month's snapshot)."""
    from monitor.storage.newness import AS_OF_KEY

    before = s.info.get(AS_OF_KEY)
    s.info[AS_OF_KEY] = month
    try:
        return _sections(s, month, lang, labels, now, full)
    finally:
        if before is None:
            s.info.pop(AS_OF_KEY, None)
        else:
            s.info[AS_OF_KEY] = before


def _sections(s: Any, month: str, lang: str, labels: Mapping[str, str], now: datetime | None, full: bool) -> dict[str, Any]:
    from monitor.storage import stats

    data_months = sorted(m for m in stats.months_with_data(s) if m <= month)
    query = Query(
        session=s, month=month, lang=lang, labels=labels, data_months=data_months,
        first_month=data_months[0] if data_months and data_months[0] <= month else month,
        previous_month=shift_month(month, -1), year_ago_month=shift_month(month, -12), full=full,
    )
    return {
        "meta": {
            "month": month,
            "lang": lang,
            "previous_month": query.previous_month,
            "year_ago_month": query.year_ago_month,
            "first_month": query.first_month,
            # Figures are as known at the end of the month; decisions count as they stand now.
            "as_of": month,
            "generated_at": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip(),
        },
        "labels": dict(labels),
        "species_names": species_names(lang),
        "fault_names": dict(FAULT_NAMES.get(lang, {})),
        **build_all(query),
    }
