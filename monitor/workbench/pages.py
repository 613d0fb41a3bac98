"""The read-only pages: a listing beside its evidence, the evidence itself, a dealer, the
sites' crawl health, and search."""

from __future__ import annotations

import codecs
import gzip
import io
import logging
import time
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from w3lib.encoding import html_to_unicode

from monitor.storage.search import index_behind, refresh_index
from monitor.storage.search import search as search_listings
from monitor.workbench import queries
from monitor.workbench.security import EVIDENCE_CSP

log = logging.getLogger(__name__)
MAX_EVIDENCE_BYTES = 20_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOSSIER_LANGS = ("zh", "en")
# A search brings the index forward by at most about this long, in batches this small.
REFRESH_SECONDS, REFRESH_BATCH = 0.5, 1_000
# Python codec names browsers do not know, as the WHATWG Encoding Standard labels them; GBK is
# served as its superset GB18030, as browsers and Scrapy decode it.
BROWSER_LABELS = {"big5hkscs": "big5", "cp1252": "windows-1252", "cp936": "gb18030", "gbk": "gb18030",
                  "gb2312": "gb18030", "cp950": "big5", "euc_jp": "euc-jp", "euc_kr": "euc-kr",
                  "shift_jis": "shift_jis", "utf-16-le": "utf-16le"}
# Media types evidence is served as when it was fetched so; anything else is served as HTML.
SERVED_TYPES = frozenset({"text/html", "application/json", "text/plain", "text/xml", "application/xml"})


def _page(request: Request, template: str, **context: object) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context)


def _missing(what: str) -> Response:
    return PlainTextResponse(f"{what} not found", status_code=404)


def listing(request: Request) -> Response:
    with request.app.state.db.session() as s:
        card = queries.listing_page(s, request.path_params["listing_id"])
    if card is None:
        return _missing(f"listing {request.path_params['listing_id']}")
    return _page(request, "listing.html", card=card)


def evidence(request: Request) -> Response:
    """The stored page, by its SHA-256 only: the file is found through the database row's
    relative path, checked to stay inside the evidence folder, and served as the bytes that were
    fetched, under a sandboxing CSP, so it is inert even opened directly."""
    db = request.app.state.db
    with db.session() as s:
        found = queries.evidence_row(s, request.path_params["sha256"])
    if found is None or db.evidence_dir is None:
        return _missing("evidence")
    row, site = found
    folder = Path(db.evidence_dir).resolve()
    path = (folder / row.path).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return _missing("evidence file")
    with gzip.open(path, "rb") as handle:
        body = handle.read(MAX_EVIDENCE_BYTES)
    kind = row.content_type if row.content_type in SERVED_TYPES else "text/html"
    encoding = _charset(row.charset, request.app.state.charsets.get(site), body)
    return Response(body, headers={
        "Content-Type": f"{kind}; charset={encoding}",
        "Content-Security-Policy": EVIDENCE_CSP,
        "X-Evidence-SHA256": row.sha256,
    })


def _charset(stored: str, site_charset: str | None, body: bytes) -> str:
    """The browser's label for the charset the crawl read the page in; for evidence stored
    before that was recorded: the page's BOM, else its site file's charset for listing pages,
    else its own meta declaration, else UTF-8."""
    try:
        encoding = codecs.lookup(stored).name if stored else ""
    except LookupError:
        encoding = ""
    if not encoding:
        encoding, _ = html_to_unicode(f"text/html; charset={site_charset}" if site_charset else None, body)
    encoding = codecs.lookup(encoding).name
    return BROWSER_LABELS.get(encoding, encoding.replace("_", "-"))


def dealer(request: Request) -> Response:
    with request.app.state.db.session() as s:
        found = queries.dealer_page(s, request.path_params["dealer_id"])
    if found is None:
        return _missing(f"dealer {request.path_params['dealer_id']}")
    return _page(request, "dealer.html", dealer=found, chart=timeline_svg(found["timeline"]))


def dossier(request: Request) -> Response:
    """The dealer's dossier workbook (``monitor.reports.write_dossier``), in Chinese unless
    ``?lang=en``, as a download named by the dealer's id (nothing scraped reaches the name)."""
    from monitor.reports import write_dossier

    dealer_id = request.path_params["dealer_id"]
    lang = request.query_params.get("lang", "zh")
    if lang not in DOSSIER_LANGS:
        return PlainTextResponse(f"lang must be one of {', '.join(DOSSIER_LANGS)}", status_code=400)
    with request.app.state.db.session() as s:
        known = queries.dealer_exists(s, dealer_id)
    if not known:
        return _missing(f"dealer {dealer_id}")
    out = io.BytesIO()
    write_dossier(request.app.state.db, dealer_id, out, lang=lang)
    return Response(out.getvalue(), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="dealer-{dealer_id}-dossier-{lang}.xlsx"'})


def sites(request: Request) -> Response:
    with request.app.state.db.session() as s:
        found = queries.site_runs(s)
    return _page(request, "sites.html", sites=found)


def search(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:100]
    results, behind = [], False
    if query:
        db = request.app.state.db
        behind = not _refresh(request.app)
        results = search_listings(db, query)
    return _page(request, "search.html", query=query, results=results, behind=behind)


def _refresh(app: Starlette) -> bool:
    """Index what a crawl added while the workbench runs, within ``REFRESH_SECONDS`` (a crawl
    done by ``wtm crawl`` or the monthly job is indexed by it already; this catches a crawl that
    could not, or one still running). One request refreshes at a time, the others search what
    is indexed; when another process holds the database, search what is indexed and say so in
    the log. Returns whether the index has caught up."""
    if not app.state.index_lock.acquire(blocking=False):
        return not index_behind(app.state.db)
    try:
        refresh_index(app.state.db, batch=REFRESH_BATCH, deadline=time.monotonic() + REFRESH_SECONDS)
    except (IntegrityError, OperationalError) as exc:
        log.warning("search index not refreshed (searching what is indexed): %s", exc.orig)
    finally:
        app.state.index_lock.release()
    return not index_behind(app.state.db)


def timeline_svg(timeline: list[dict]) -> dict:
    """Bar geometry of the dealer's ads per month (drawn as inline SVG by the template)."""
    width, height, gap = 640, 160, 2
    top = max((m["ads"] for m in timeline), default=0) or 1
    step = width / max(len(timeline), 1)
    bars = []
    for index, month in enumerate(timeline):
        h = round((height - 30) * month["ads"] / top, 1)
        fh = round((height - 30) * month["flagged"] / top, 1)
        x = round(index * step + gap, 1)
        bars.append({**month, "x": x, "w": round(max(step - 2 * gap, 1), 1), "h": h, "y": round(height - 20 - h, 1),
                     "fh": fh, "fy": round(height - 20 - fh, 1)})
    return {"width": width, "height": height, "bars": bars, "top": top}
