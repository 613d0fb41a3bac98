"""The report fixture's history (13 flags over three months, one hostile listing) plus pages
the workbench must show inert and in their own charset: a page with scripts and network
loads, a GBK page and a Big5 page; and the workbench served by uvicorn on a loopback port."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from monitor.items import ListingItem
from monitor.storage import CrawlRecorder, Database

import report_fixtures as fx

SCRIPT_PAGE = ("<html><head><title>evidence</title></head><body><h1 id='h'>象牙 evidence</h1>"
               "<script>document.getElementById('h').textContent='SCRIPT RAN';"
               "document.title='SCRIPT RAN';</script>"
               "<img src='http://127.0.0.1:9/beacon.gif'></body></html>").encode("utf-8")
GBK_TEXT = "象牙手镯 老料 包真"
GBK_PAGE = f"<html><head><meta charset='gbk'></head><body><p id='t'>{GBK_TEXT}</p></body></html>".encode("gbk")
BIG5_TEXT = "象牙手鐲 老料"
BIG5_PAGE = f"<html><head><meta charset='big5'></head><body><p id='t'>{BIG5_TEXT}</p></body></html>".encode("big5")


def extra_pages(db: Database) -> dict[str, int]:
    """Record the three evidence listings on site 'epsilon'; returns external id -> listing id."""
    observed = datetime(2025, 3, 26, 9, 0)
    run_id = db.start_run(kind="site", started_at=observed, month="2025-03")
    rec = CrawlRecorder(db, run_id=run_id, site="epsilon", observed_at=observed)
    pages = {"script": SCRIPT_PAGE, "gbk": GBK_PAGE, "big5": BIG5_PAGE}
    for external_id, body in pages.items():
        title = f"{external_id} 象牙摆件"
        item = ListingItem(site="epsilon", external_id=external_id, url=f"http://127.0.0.1:9/epsilon/{external_id}",
                           title=title, description="犀角 杯 老货", price_text="¥800", seller="李",
                           fetched_at=observed, contacts=[("phone", "13800138000")])
        matches = [{"term": "象牙", "species": "ivory", "kind": "term", "field": "title",
                    "start": title.index("象牙"), "end": title.index("象牙") + 2, "text": "象牙", "trick": ""}]
        rec.add(item, matches, lexicon_version="test", flagged=True, species=["ivory"], score=1.0, evidence=body)
    rec.finish(fx.HEALTHY)
    db.finish_run(run_id, observed)
    from sqlalchemy import select

    from monitor.storage.models import Listing
    with db.session() as s:
        return dict(s.execute(select(Listing.external_id, Listing.id).where(Listing.external_id.in_(list(pages)))).all())


def make_database(folder: Path) -> tuple[Database, dict[str, int]]:
    db = fx.make_database(folder)
    return db, extra_pages(db)


class Served:
    """A uvicorn server on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def call(url: str, data: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})},
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
