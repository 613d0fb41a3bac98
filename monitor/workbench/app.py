"""The workbench's Starlette application: routes, templates, static files and the guards.

Static files are read from the package once, at start, and served from memory by name, so no
path from a request reaches the file system; the page loads nothing from the network.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import AsyncIterator, Iterable, Mapping

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from monitor.matching.species import species_table
from monitor.storage import Database
from monitor.workbench import pages, review
from monitor.workbench.security import Guard
from monitor.workbench.text import highlight

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _static() -> dict[str, tuple[bytes, str]]:
    found = {}
    for name in ("workbench.css", "workbench.js"):
        found[name] = ((files("monitor.workbench") / "static" / name).read_bytes(), STATIC_TYPES[name[name.rfind("."):]])
    found["report.css"] = ((files("monitor.reports") / "templates" / "report.css").read_bytes(), STATIC_TYPES[".css"])
    return found


def _templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("monitor.workbench", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["highlight"] = highlight
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compiled at start, not on an analyst's first request
    return Jinja2Templates(env=env)


def static_file(request: Request) -> Response:
    entry = request.app.state.static.get(request.path_params["name"])
    if entry is None:
        return PlainTextResponse("not found", status_code=404)
    body, kind = entry
    return Response(body, media_type=kind)


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Before the first request: draw the month's unflagged sample and read the queue once, so
    the analyst's first page costs what every later one does."""
    await run_in_threadpool(review.warm, app)
    yield


def create_app(db: Database, analyst: str = "", password_hash: str = "", hosts: Iterable[str] = (),
               charsets: Mapping[str, str] | None = None, species: Iterable[str] | None = None) -> Starlette:
    """The workbench over ``db``. ``hosts`` are the Host names accepted besides loopback's (the
    address it is bound to); ``analyst`` is who decides when no password is set; ``charsets``
    maps site names to the charset their site files give listing pages (evidence decoding);
    ``species`` are the lexicon's species keys (default: the shipped lexicon's)."""
    routes = [
        Route("/", review.queue_page),
        Route("/api/decide", review.decide, methods=["POST"]),
        Route("/api/undo", review.undo, methods=["POST"]),
        Route("/listing/{listing_id:int}", pages.listing),
        Route("/evidence/{sha256:str}", pages.evidence),
        Route("/dealer/{dealer_id:int}", pages.dealer),
        Route("/dealers/{dealer_id:int}/dossier.xlsx", pages.dossier),
        Route("/sites", pages.sites),
        Route("/search", pages.search),
        Route("/static/{name:str}", static_file),
    ]
    allowed = sorted({*LOOPBACK_HOSTS, *(h for h in hosts if h)})
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed, www_redirect=False),
        Middleware(Guard, analyst=analyst, password_hash=password_hash),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=_lifespan)
    app.state.db = db
    app.state.charsets = dict(charsets or {})
    app.state.species = list(species) if species is not None else [g.key for g in species_table()]
    app.state.sample_cache = {}
    app.state.index_lock = threading.Lock()
    app.state.templates = _templates()
    app.state.static = _static()
    return app
