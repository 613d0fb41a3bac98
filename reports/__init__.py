"""The monthly briefing: context from the stats queries, an HTML page, and spreadsheet exports.

``render_report`` is what ``wtm report``, the monthly job and the demo call. The report reads
the database alone (never a crawl in progress); file names come from the month, never from
scraped text.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from monitor.collector import paused
from monitor.months import month_of, parse_month, shift_month

from .context import build_context
from .dossier import write_dossier
from .exports import FORMATS as TABLE_FORMATS
from .exports import tables, write_tables
from .labels import LANGUAGES, species_folder
from .render import render_html, render_pdf

__all__ = ["FORMATS", "LANGUAGES", "build_context", "last_complete_month", "render_html", "render_pdf", "render_report",
           "report_path", "tables", "write_dossier", "write_tables"]

FORMATS = ("html", "pdf", *TABLE_FORMATS)


def last_complete_month(source: Any, now: datetime) -> str:
    """The month ``wtm report`` shows when none is given.

    The latest month before ``now``'s that holds data (a simulated crawl's months may lie in
    the past); the calendar's previous month when the database holds none. ``source`` is a
    ``Database`` or an open session.
    """
    from monitor.storage import stats

    current = month_of(now)
    if hasattr(source, "session") and callable(source.session):
        with source.session() as session:
            months = stats.months_with_data(session)
    else:
        months = stats.months_with_data(source)
    earlier = [m for m in months if m < current]
    return max(earlier) if earlier else shift_month(current, -1)


def report_path(data_path: Path, month: str, fmt: str) -> Path:
    """Where a report goes by default: ``<data_dir>/reports/report-YYYY-MM.<ext>`` (csv: a folder)."""
    parse_month(month)
    name = f"report-{month}-csv" if fmt == "csv" else f"report-{month}.{fmt}"
    return Path(data_path) / "reports" / name


@lru_cache(maxsize=4)
def _database(url: str) -> Any:
    """The report's database, kept for the process's life (its connections closed after each
    report): SQLAlchemy's compiled-statement cache belongs to the engine, so the scheduler's or
    the workbench's next report skips compiling its eighty queries (a tenth of a warm report)."""
    from monitor.storage import Database

    return Database(url)


def render_report(config: Any, month: str | None = None, out: Path | None = None, fmt: str = "html",
                  lang: str = "zh", *, now: datetime | None = None, site_titles: Any = None) -> Path:
    """Write the report of ``month`` (default: the last complete month) and return its path.

    ``fmt`` is html (one self-contained page), pdf (that page printed by WeasyPrint) or
    xlsx/csv/json (the same tables). Raises
    ``SchemaOutdatedError`` before reading anything if the database is behind the code.
    Species groups are ordered, named and coloured from the configured lexicon folder's
    ``species.yaml`` (``keywords_dir``; default: the shipped one). ``site_titles`` (name -> title,
    from the site files the caller loaded) names the sites on the page.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    with paused():  # the queries' rows kept starting full collections: a fifth of a warm report at 1M listings
        return _write_report(config, month, out, fmt, lang, now, site_titles)


def _write_report(config: Any, month: str | None, out: Path | None, fmt: str, lang: str, now: datetime | None,
                  site_titles: Any) -> Path:
    keywords_dir = config.keywords_dir or None
    db = _database(config.db_url)
    try:
        db.check_current(again=True)
        if month is None:
            month = last_complete_month(db, now or datetime.now(config.tz))
        parse_month(month)
        context = build_context(db, month, lang, now=now, keywords_dir=keywords_dir, site_titles=site_titles,
                                full=fmt in TABLE_FORMATS)
    finally:
        db.dispose()
    target = Path(out) if out is not None else report_path(config.data_path, month, fmt)
    if out is not None and fmt != "csv" and target.is_dir():
        target = target / report_path(target, month, fmt).name  # --out DIR: the usual name inside it
    if fmt in ("html", "pdf"):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with species_folder(keywords_dir):  # the charts colour species from the same species.yaml
            if fmt == "pdf":
                partial.write_bytes(render_pdf(context))
            else:
                partial.write_text(render_html(context), encoding="utf-8")
        partial.replace(target)
        return target
    return write_tables(context, fmt, target)
