"""Serves the 31 sites on one loopback port, each under /<name>/, with the sites' faults.

Pages are cached per (month, world version, URL); faults that depend on time or on how
often a URL was asked for (429, first-hit 500/503, slow answers) sit in front of the cache.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from email.utils import formatdate
from calendar import timegm
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from monitor.sandbox.apps import Response, SiteApp, h
from monitor.sandbox.auctions import auction_app
from monitor.sandbox.b2b import B2BApp
from monitor.sandbox.c2c import C2CApp
from monitor.sandbox.classifieds import ClassifiedsApp
from monitor.sandbox.collectibles import CollectiblesApp
from monitor.sandbox.forums import ForumApp
from monitor.sandbox.sites import (CAPTCHA_SEARCHES, CAPTCHA_WALL_S, CAPTCHA_WINDOW_S, FAULT_SHARE,
                                   RATE_LIMIT_PER_S, RETRY_AFTER_S, ROBOTS_DISALLOW, SLOW_SECONDS)
from monitor.sandbox.world import Sandbox, hash01

log = logging.getLogger("monitor.sandbox")

HOST = "127.0.0.1"  # the sandbox never listens anywhere else
APPS = {"classifieds": ClassifiedsApp, "collectibles": CollectiblesApp, "c2c": C2CApp,
        "b2b": B2BApp, "forum": ForumApp, "auction": auction_app}
CACHE_LIMIT = 30_000


class _LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Thirty sites crawled at once overflow the default backlog of 5 (dropped SYNs cost 1-3 s each).
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-request are normal for a crawler test bed; stay quiet."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def robots_txt() -> str:
    lines = ["User-agent: *", "Disallow: /__admin__/"]
    for prefixes in ROBOTS_DISALLOW.values():
        lines += [f"Disallow: {p}" for p in prefixes]
    lines += ["", "User-agent: BadBot", "Disallow: /", ""]
    return "\n".join(lines)


def truncate(body: bytes) -> bytes:
    """Cut a page off inside its footer: content intact, closing tags lost."""
    cut = body.rfind(b'<div class="footer')
    return body[:cut + 15] if cut > 0 else body[: len(body) * 3 // 4]


class SandboxServer:
    """The network of sites over real HTTP; use as a context manager or call start()/close()."""

    def __init__(self, world: Sandbox | None = None, port: int = 0, month: str | None = None) -> None:
        self.world = world or Sandbox()
        self.month = month or self.world.months[-1]
        self.world.check_month(self.month)
        self.apps: dict[str, SiteApp] = {s.name: APPS[s.archetype](self.world, s) for s in self.world.sites}
        self._cache: dict[tuple[str, int, str], Response] = {}
        self._hits: dict[str, deque[float]] = {s.name: deque() for s in self.world.sites}
        self._failed_once: set[tuple[str, str]] = set()
        self._searches: dict[str, deque[float]] = {s.name: deque() for s in self.world.sites}
        self._walled_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self._httpd = _LoopbackHTTPServer((HOST, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="sandbox-http",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_month(self, month: str) -> None:
        self.world.check_month(month)
        with self._lock:
            self.month = month
            self._failed_once.clear()

    def state(self) -> dict:
        return {"month": self.month, "today": self.world.today(self.month).isoformat(), "seed": self.world.seed,
                "months": self.world.months, "version": self.world.version}

    def date_header(self) -> str:
        today = self.world.today(self.month)
        return formatdate(timegm((today.year, today.month, today.day, 12, 0, 0)), usegmt=True)

    # -- request handling ----------------------------------------------------------------
    def respond(self, method: str, target: str, body: bytes) -> Response:
        parts = urlsplit(target)
        path, query = parts.path, parts.query
        if path.startswith("/__admin__/"):
            return self.admin(method, path, query, body)
        if path == "/robots.txt":
            return Response(200, robots_txt().encode(), "text/plain; charset=utf-8")
        if path == "/":
            links = "".join(f'<li><a href="/{s.name}/">{h(s.label)}</a> <span class="archetype">{s.archetype}</span></li>'
                            for s in self.world.sites)
            return Response(200, f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sandbox</title></head>"
                                 f"<body><ul class=\"sites\">{links}</ul></body></html>".encode(), "text/html; charset=utf-8")
        site = path.split("/", 2)[1]
        app = self.apps.get(site)
        if app is None:
            return Response(404, b"not found", "text/plain; charset=utf-8")
        faults = app.spec.faults
        month = self.month
        if "captcha" in faults and self._is_search(app, path, query) and self._captcha_wall(site):
            return captcha_page(app)
        if "rate_limit" in faults and self._too_fast(site):
            return Response(429, "请求过于频繁，请稍后再试".encode(), "text/plain; charset=utf-8",
                            [("Retry-After", str(RETRY_AFTER_S))])
        if "server_error" in faults and hash01(self.world.seed, "5xx", target) < FAULT_SHARE["server_error"]:
            key = (month, target)
            with self._lock:
                first = key not in self._failed_once
                self._failed_once.add(key)
            if first:
                if hash01(self.world.seed, "503", target) < 0.5:
                    return Response(503, b"Service Unavailable", "text/plain", [("Retry-After", str(RETRY_AFTER_S))])
                return Response(500, b"Internal Server Error", "text/plain")
        response = self._cached(app, month, path, query)
        if "slow" in faults and response.status == 200 and app.detail_re.match(target) \
                and hash01(self.world.seed, "slow", target) < FAULT_SHARE["slow"]:
            time.sleep(SLOW_SECONDS)
        return response

    def _cached(self, app: SiteApp, month: str, path: str, query: str) -> Response:
        key = (month, self.world.version, f"{path}?{query}")
        response = self._cache.get(key)
        if response is None:
            response = app.handle(month, path, query)
            target = path + (f"?{query}" if query else "")
            if ("truncated" in app.spec.faults and response.status == 200 and app.detail_re.match(target)
                    and hash01(self.world.seed, "truncated", target) < FAULT_SHARE["truncated"]):
                response = Response(response.status, truncate(response.body), response.content_type, response.headers)
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = response
        return response

    def _too_fast(self, site: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[site]
            while hits and now - hits[0] > 1.0:
                hits.popleft()
            if len(hits) >= RATE_LIMIT_PER_S:
                return True
            hits.append(now)
        return False

    @staticmethod
    def _is_search(app: SiteApp, path: str, query: str) -> bool:
        """A keyword search: the site's search path with its keyword parameter."""
        page = urlsplit(app.search_url("\u0001"))
        names = [name for name, value in parse_qs(page.query).items() if "\u0001" in value[0]]
        return path == page.path and bool(names) and names[0] in parse_qs(query, keep_blank_values=True)

    def _captcha_wall(self, site: str) -> bool:
        """Whether this search meets the captcha wall: it stands CAPTCHA_WALL_S from the search that
        made more than CAPTCHA_SEARCHES within CAPTCHA_WINDOW_S (the sandbox has one client)."""
        now = time.monotonic()
        with self._lock:
            searches = self._searches[site]
            searches.append(now)
            while searches and now - searches[0] > CAPTCHA_WINDOW_S:
                searches.popleft()
            if now < self._walled_until.get(site, 0.0):
                return True
            if len(searches) > CAPTCHA_SEARCHES:
                self._walled_until[site] = now + CAPTCHA_WALL_S
                return True
        return False

    def admin(self, method: str, path: str, query: str, body: bytes) -> Response:
        def answer(obj: object, status: int = 200) -> Response:
            return Response(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        try:
            if path == "/__admin__/state":
                return answer(self.state())
            if path == "/__admin__/month" and method == "POST":
                text = body.decode("utf-8", "replace")
                month = json.loads(text).get("month", "") if text.lstrip().startswith("{") else \
                    parse_qs(text).get("month", [""])[0]
                self.set_month(month)
                return answer(self.state())
            if path == "/__admin__/sites":
                return answer([{"name": s.name, "label": s.label, "archetype": s.archetype, "charset": s.charset,
                                "declared_charset": s.declared_charset, "script": s.script, "region": s.region,
                                "currency": s.currency, "removal": s.removal, "faults": list(s.faults),
                                "takedown_rate": s.takedown_rate, "page_size": s.page_size,
                                "search_mode": s.search_mode, "result_cap": s.result_cap,
                                "categories": [{"key": c.key, "label": c.label, "max_pages": c.max_pages,
                                                "everything": c.everything, "catch_all": c.catch_all,
                                                "url": self.apps[s.name].category_page_url(c.key)}
                                               for c in s.categories]}
                               for s in self.world.sites])
            if path == "/__admin__/takedowns" and method == "POST":
                data = json.loads(body or b"{}")
                outcome = self.world.request_takedown(list(data.get("urls", [])), data.get("month") or self.month)
                return answer({"requested": len(outcome), "will_remove": sum(1 for v in outcome.values() if v),
                               "outcome": outcome})
            if path == "/__admin__/truth":
                month = parse_qs(query).get("month", [self.month])[0]
                return answer(self.world.truth(month))
        except (ValueError, TypeError, AttributeError) as exc:
            return answer({"error": str(exc)}, 400)
        return answer({"error": f"unknown admin path {path}"}, 404)


def captcha_page(app: SiteApp) -> Response:
    """What a site shows a client that searched too fast: HTTP 200, a slider captcha, no results."""
    body = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证 - {h(app.spec.label)}</title></head>'
            '<body><div class="verify"><h1>访问过于频繁</h1><p>请拖动下方滑块完成验证后继续访问。</p>'
            '<div class="slider-captcha" data-verify="/verify/slider"></div></div></body></html>')
    return Response(200, body.encode("utf-8"), "text/html; charset=utf-8")


def _handler_for(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed-ACK stalls
        server_version = "sandbox/1.0"
        sys_version = ""

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                response = server.respond(method, self.path, body)
            except Exception:  # a sandbox bug must look like a broken site, not a dead server
                log.exception("sandbox: %s %s failed", method, self.path)
                response = Response(500, b"sandbox error", "text/plain; charset=utf-8")
            server.requests += 1
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(response.body)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def do_POST(self) -> None:
            self._serve("POST")

        def date_time_string(self, timestamp: float | None = None) -> str:
            return server.date_header()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
