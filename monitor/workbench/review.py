"""The review queue and keyboard triage: decisions go to ``review_decisions`` through
``monitor.storage.review``, as ``wtm review import`` writes them, with who and when."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.storage.review import DECISIONS, record_decision, undo_decision, unflagged_sample
from monitor.workbench import queries

MAX_NOTE = 2000


def queue_page(request: Request) -> Response:
    params = request.query_params
    site, species = params.get("site", "")[:100], params.get("species", "")[:30]
    dealer = params.get("dealer", "")
    dealer_id = int(dealer) if dealer.isdigit() else None
    reviewed = params.get("reviewed") == "1"
    db = request.app.state.db
    sample: list = []
    with db.session() as s:
        cards = queries.queue(s, site=site, species=species, dealer=dealer_id, reviewed=reviewed)
        filters = {"sites": queries.site_names(s), "species": request.app.state.species}
        month = queries.newest_month(s)
        newest = queries.newest_listing(s)
    if month and not (reviewed or species or dealer_id is not None):
        ids = _sample(request.app, month, newest)
        with db.session() as s:
            sample = queries.sample_cards(s, ids, site)
    return request.app.state.templates.TemplateResponse(request, "queue.html", {
        "cards": cards, "sample": sample, "month": month, "filters": filters, "site": site, "species": species,
        "dealer": dealer_id, "reviewed": reviewed, "page_size": queries.PAGE,
    })


def _sample(app: Any, month: str, newest: int | None) -> list[int]:
    """The month's unflagged sample, drawn again only when listings were added since."""
    cache = app.state.sample_cache
    key = (month, newest)
    if cache.get("key") != key:
        cache.update(key=key, ids=unflagged_sample(app.state.db, month))
    return cache["ids"]


def warm(app: Any) -> None:
    """Read the default queue once (the server's start calls this)."""
    with app.state.db.session() as s:
        queries.queue(s)
        month, newest = queries.newest_month(s), queries.newest_listing(s)
    if month:
        _sample(app, month, newest)


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("listing_id"), int):
        return None
    return data


async def decide(request: Request) -> Response:
    data = await _body(request)
    if data is None or data.get("decision") not in DECISIONS:
        return JSONResponse({"error": f"expected {{listing_id, decision: {' or '.join(DECISIONS)}, note}}"},
                            status_code=400)
    note = str(data.get("note") or "")[:MAX_NOTE]
    who = request.state.who
    try:
        await _in_thread(record_decision, request.app.state.db, data["listing_id"], data["decision"], who, note)
    except LookupError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse({"listing_id": data["listing_id"], "decision": data["decision"], "reviewer": who})


async def undo(request: Request) -> Response:
    data = await _body(request)
    if data is None:
        return JSONResponse({"error": "expected {listing_id}"}, status_code=400)
    now = await _in_thread(undo_decision, request.app.state.db, data["listing_id"])
    return JSONResponse({"listing_id": data["listing_id"], "decision": now})


async def _in_thread(function: Any, *args: Any) -> Any:
    return await run_in_threadpool(function, *args)
