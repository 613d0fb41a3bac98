"""How fast the sandbox starts and how many pages per second it serves.

Starts `wtm sandbox serve` in its own process (as the demo and crawl benchmark do), waits for
the first answer, then fetches search, category and detail pages of the fault-free sites from
several client processes over keep-alive connections: a cold pass (pages rendered on demand,
segmented sites' word index built as searches need it) and a warm pass (served from the
per-month cache).

    .venv/bin/python benchmarks/sandbox_serve.py [--seconds 5] [--clients 4] [--month 2025-06]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import subprocess
import sys
import time
from urllib.parse import urlsplit

SKIP_FAULTS = {"rate_limit", "slow"}  # these throttle on purpose


def page_paths(month: str) -> list[str]:
    """Every detail page (API URL on JSON sites), search pages for a few keywords and every
    reachable category page."""
    from monitor.sandbox import Sandbox
    from monitor.sandbox.server import APPS
    from monitor.sandbox.urls import api_url, listing_url

    world = Sandbox()
    paths: list[str] = []
    keywords = ["象牙", "手串", "玳瑁", "犀角", "手镯", "白塑料", "成色", "包邮"]
    for spec in world.sites:
        if SKIP_FAULTS & set(spec.faults):
            continue
        app = APPS[spec.archetype](world, spec)
        paged = spec.archetype != "c2c" or spec.variant in (1, 3)  # API sites: later pages need a cursor
        for external_id in world.listed(spec.name, month):
            paths.append(api_url(spec, external_id) or listing_url(spec, external_id))
        for keyword in keywords:
            hits = len(world.search(spec.name, keyword, month))
            for page in range(1, max(1, -(-hits // spec.page_size)) + 1):
                if page == 1 or paged:
                    paths.append(app.search_url(keyword, page))
        for category in world.categories(spec.name):
            shown = len(world.category(spec.name, category.key, month))
            for page in range(1, max(1, -(-shown // spec.page_size)) + 1):
                if page == 1 or paged:
                    paths.append(app.category_page_url(category.key, page))
    return paths


def first_search_pages() -> list[str]:
    """One empty search (it finds nothing) per site: each site generates its listings on first use."""
    from monitor.sandbox import Sandbox
    from monitor.sandbox.server import APPS

    world = Sandbox()
    return [APPS[spec.archetype](world, spec).search_url("", 1) for spec in world.sites]


def fetch(args: tuple[str, list[str], float, float]) -> tuple[int, float]:
    origin, paths, seconds, start_at = args
    parts = urlsplit(origin)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    time.sleep(max(0.0, start_at - time.time()))  # all clients start together, pool start-up excluded
    began = time.monotonic()
    deadline = began + seconds
    done = 0
    first = True
    while first or time.monotonic() < deadline:
        first = False
        for path in paths:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status >= 500 or response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            done += 1
            if done % 50 == 0 and time.monotonic() >= deadline:
                break
    conn.close()
    return done, time.monotonic() - began


def run(origin: str, paths: list[str], clients: int, seconds: float) -> float:
    shares = [paths[i::clients] for i in range(clients)]
    with multiprocessing.Pool(clients) as pool:
        start_at = time.time() + 1.0
        results = pool.map(fetch, [(origin, share, seconds, start_at) for share in shares])
    return sum(count for count, _ in results) / max(elapsed for _, elapsed in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--month", default="2025-06")
    args = parser.parse_args()

    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "monitor", "-q", "sandbox", "serve", "--port", "0",
                               "--month", args.month], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        origin = (server.stderr.readline() if server.stderr else "").strip()
        parts = urlsplit(origin)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/tongcheng/")
        conn.getresponse().read()
        first = time.monotonic() - started
        for path in first_search_pages():
            conn.request("GET", path)
            conn.getresponse().read()
        ready = time.monotonic() - started
        print(f"start-up: {first:.2f} s until the first page answered, {ready:.2f} s until all 30 sites "
              f"answered a search page ({origin})")

        paths = page_paths(args.month)
        one_pass = run(origin, paths, args.clients, 0.0)
        print(f"cold pass: {len(paths)} pages (detail + search + category) at {one_pass:,.0f} pages/s (each rendered once)")
        warm = run(origin, paths, args.clients, args.seconds)
        print(f"warm: {warm:,.0f} pages/s over {args.seconds:.0f} s with {args.clients} keep-alive clients")
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    main()
