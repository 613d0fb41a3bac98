"""The read-only pages: a listing beside its evidence, the evidence itself, a dealer, the
sites' crawl health, and search."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from w3lib.encoding import html_to_unicode

from monitor.storage.search import refresh_index
from monitor.storage.search import search as search_listings
from monitor.workbench import queries
from monitor.workbench.security import EVIDENCE_CSP

log = logging.getLogger(__name__)
MAX_EVIDENCE_BYTES = 20_000_000
# Python codec names browsers do not know, as the WHATWG Encoding Standard labels them.
BROWSER_LABELS = {"big5hkscs": "big5", "cp1252": "windows-1252", "cp936": "gbk", "cp950": "big5",
                  "euc_jp": "euc-jp", "euc_kr": "euc-kr", "shift_jis": "shift_jis", "utf-16-le": "utf-16le"}


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
    relative path, checked to stay inside the evidence folder, and served with its charset
    under a sandboxing CSP, so it is inert even opened directly. The charset is the page's BOM,
    else the one its site file gives listing pages (as the crawl read it), else its own meta."""
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
    charset = request.app.state.charsets.get(site)
    encoding, _ = html_to_unicode(f"text/html; charset={charset}" if charset else None, body)
    encoding = BROWSER_LABELS.get(encoding, encoding.replace("_", "-"))
    return Response(body, headers={
        "Content-Type": f"text/html; charset={encoding}",
        "Content-Security-Policy": EVIDENCE_CSP,
        "X-Evidence-SHA256": row.sha256,
    })


def dealer(request: Request) -> Response:
    with request.app.state.db.session() as s:
        found = queries.dealer_page(s, request.path_params["dealer_id"])
    if found is None:
        return _missing(f"dealer {request.path_params['dealer_id']}")
    return _page(request, "dealer.html", dealer=found, chart=timeline_svg(found["timeline"]))


def sites(request: Request) -> Response:
    with request.app.state.db.session() as s:
        found = queries.site_runs(s)
    return _page(request, "sites.html", sites=found)


def search(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()[:100]
    results = []
    if query:
        db = request.app.state.db
        _refresh(request.app)
        results = search_listings(db, query)
    return _page(request, "search.html", query=query, results=results)


def _refresh(app: Starlette) -> None:
    """Index what the crawl added, one request at a time; when another process holds the
    database or indexed the same rows first, search what is indexed and say so in the log."""
    with app.state.index_lock:
        try:
            refresh_index(app.state.db)
        except (IntegrityError, OperationalError) as exc:
            log.warning("search index not refreshed (searching what is indexed): %s", exc.orig)


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
