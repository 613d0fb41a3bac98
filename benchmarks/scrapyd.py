"""Scrapyd benchmark: the same month crawled locally, on one Scrapyd node and on two.

Prints the wall time of each, the nodes' mean job time per site, and the coordinator's overhead
per site: the one-node wall time less the jobs' own run time (from Scrapyd's start and end
times, divided by the node's job slots), per site. It covers deploy check, scheduling,
polling, Scrapyd's process launch and reading each site's health.

    .venv/bin/python benchmarks/scrapyd.py [--sites N] [--requests 280] [--slots 2]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Needs the node venv (`make scrapyd-node`) and a PostgreSQL server (each run gets a fresh
database). Every node, the sandbox and the coordinator share this machine's two cores, so two
nodes cannot be twice as fast here: the figure shows the overhead, not the scaling of real
machines. Each job is a fresh Python process that loads the matcher, which a local crawl does
once for all sites.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.config import load_config
from monitor.crawljobs import crawl
from monitor.crawling.sites import load_sites
from monitor.sandbox import Sandbox, SandboxServer
from monitor.storage import Database

CHECKOUT = Path(__file__).resolve().parent.parent
SCRAPYD = CHECKOUT / ".venv" / "scrapyd-node" / "bin" / "scrapyd"
MONTH = "2025-12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(folder: Path, env: dict[str, str], slots: int) -> tuple[subprocess.Popen, str]:
    folder.mkdir(parents=True)
    port = free_port()
    (folder / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\nmax_proc = {slots}\npoll_interval = 0.5\n"
        f"eggs_dir = {folder}/eggs\nlogs_dir = {folder}/logs\ndbs_dir = {folder}/dbs\nitems_dir =\n", encoding="utf-8")
    process = subprocess.Popen([str(SCRAPYD)], cwd=folder, env=env, start_new_session=True,
                               stdout=open(folder / "out.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/daemonstatus.json", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"Scrapyd did not start; see {folder / 'out.log'}")


def job_seconds(url: str) -> float:
    finished = httpx.get(f"{url}/listjobs.json", params={"project": "wtm"}, timeout=10).json()["finished"]
    return sum((datetime.fromisoformat(j["end_time"]) - datetime.fromisoformat(j["start_time"])).total_seconds()
               for j in finished)


def one_crawl(args: argparse.Namespace, server: SandboxServer, sites: list[str], nodes: int, folder: Path) -> dict:
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    name = f"wtm_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    Database(url).upgrade()
    settings = {"database_url": url, "data_dir": str(folder / "data"), "sandbox_url": server.url,
                "download_delay": 0.0, "autothrottle": False, "requests_per_site": args.requests, "log_level": "WARNING"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("WTM_")}
    env.update({f"WTM_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()})
    processes, urls = [], []
    try:
        for i in range(nodes):
            process, node_url = start_node(folder / f"node{i}", env, args.slots)
            processes.append(process)
            urls.append(node_url)
        config = load_config(overrides={**settings, "scrapyd_urls": urls or None})
        as_of = datetime.fromisoformat(f"{MONTH}-28T20:00").replace(tzinfo=config.tz)
        started = time.monotonic()
        summary = crawl(config, sites=sites, as_of=as_of, progress=False)
        wall = time.monotonic() - started
        jobs = sum(job_seconds(u) for u in urls)
        return {"wall": wall, "jobs": jobs, "ok": summary.ok, "items": summary.items}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=0, help="crawl the first N sites (default: all)")
    parser.add_argument("--requests", type=int, default=280, help="requests_per_site")
    parser.add_argument("--slots", type=int, default=2, help="Scrapyd max_proc per node")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    sites = sorted(load_sites(None))
    sites = sites[: args.sites] if args.sites else sites
    with SandboxServer(Sandbox(), month=MONTH) as server, tempfile.TemporaryDirectory(prefix="wtm-bench-") as tmp:
        results = {n: one_crawl(args, server, sites, n, Path(tmp) / f"n{n}") for n in (0, 1, 2)}
    print(f"{len(sites)} sites, {args.requests} requests per site, {args.slots} job slots per node, "
          f"2 cores shared by everything")
    for nodes, r in results.items():
        where = "locally" if nodes == 0 else f"on {nodes} node{'s' if nodes > 1 else ''}"
        print(f"  {where:12} {r['wall']:7.1f} s wall, {r['items']} listings, ok={r['ok']}")
    one = results[1]
    print(f"  mean job time per site on 1 node: {one['jobs'] / len(sites):.1f} s")
    overhead = (one["wall"] - one["jobs"] / args.slots) / len(sites)
    print(f"  coordinator overhead per site (1-node wall less job time / slots): {overhead:.1f} s")


if __name__ == "__main__":
    main()
