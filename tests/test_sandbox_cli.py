"""`wtm sandbox serve` and `wtm sandbox truth` as a user runs them."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from monitor.cli import main
from monitor.sandbox import SITES, Sandbox, SandboxServer
from monitor.sandbox.server import APPS


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_serve_starts_every_site_on_loopback_within_five_seconds() -> None:
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "monitor", "-q", "sandbox", "serve", "--port", "0",
                                "--month", "2025-03", "--seed", "11"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stderr.readline().strip()  # type: ignore[union-attr]
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
        conn.request("GET", "/__admin__/state")
        state = json.loads(conn.getresponse().read())
        assert state["month"] == "2025-03" and state["seed"] == 11
        world = Sandbox(seed=11)  # only to write each site's search URL
        for spec in SITES:
            # An empty search finds nothing (SITES.md) but makes the site generate its ads.
            conn.request("GET", APPS[spec.archetype](world, spec).search_url("", 1))
            response = conn.getresponse()
            assert response.read()
            assert response.status == 200, spec.name
        assert time.monotonic() - began < 5.0
        # Another process (another string-hash seed) serves byte-identical pages for the same seed.
        paths = ["/huaxiacang/search.php?keyword=%CA%D6%B4%AE&page=1", "/huaxiacang/list.php?catid=13&page=2",
                 "/lutian/category/0011?p=1", "/xianzhi/api/feed?tab=new", "/xianzhi/api/search?q=%E6%89%8B%E6%9C%BA"]
        remote = []
        for path in paths:
            conn.request("GET", path)
            remote.append(conn.getresponse().read())
        with SandboxServer(Sandbox(seed=11), month="2025-03") as local:
            here = http.client.HTTPConnection("127.0.0.1", local.port, timeout=10)
            for path, body in zip(paths, remote):
                here.request("GET", path)
                assert here.getresponse().read() == body, path
    finally:
        process.terminate()
        process.wait(5)


def test_truth_writes_every_listing_of_the_month(tmp_path: Path) -> None:
    out = tmp_path / "truth.jsonl"
    assert run_cli(["-q", "sandbox", "truth", "--month", "2024-05", "--seed", "3", "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 2500
    assert {"site", "url", "illegal", "species", "dealer_id", "state", "posted_date", "contacts"} <= set(rows[0])
    assert {r["site"] for r in rows} == {s.name for s in SITES}


def test_truth_rejects_a_month_outside_the_calendar(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(["sandbox", "truth", "--month", "1999-01"]) == 2
    assert "not a simulated month" in capsys.readouterr().err
