"""A marketplace of a test's own on 127.0.0.1, for pages the sandbox does not serve (failing,
walled, hostile): a quiet request handler to subclass, a server in a thread, and site files for
it. Tests that need the simulated marketplaces use ``monitor.sandbox`` instead."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Iterator

# A site searched at search?q=..., its hits' links read as listings /item/N with a title.
SITE_FILE = """\
name: {name}
platform: html
base_url: "{origin}/{name}/"
script: simplified
charset: utf-8
search:
  url: "search?q={{keyword}}"
  results: "a.hit::attr(href)"
listing:
  id_from_url: "/item/(\\\\d+)"
  fields:
    title: "h1::text"
"""


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing and answers in one call."""

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes | str, headers: dict[str, str] | None = None,
              content_type: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def site(self) -> str:
        """The first segment of the path: which site the request is for."""
        return self.path.split("?", 1)[0].strip("/").split("/")[0]


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler],
            server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> Iterator[tuple[ThreadingHTTPServer, str]]:
    """The server on a free port and its origin (http://127.0.0.1:PORT), stopped on exit."""
    server = server_class(("127.0.0.1", 0), handler)
    server.request_queue_size = 64
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_sites(folder: Path, origin: str, names: Iterable[str], template: str = SITE_FILE) -> Path:
    """One site file per name in ``folder`` (created), from ``template`` (``{name}``, ``{origin}``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.yaml").write_text(template.format(name=name, origin=origin), encoding="utf-8")
    return folder
