"""A full disk fails a crawl at once, by name, and leaves nothing that blocks the next one.

The crawl stops itself below 20 MB free (``disk_full``): past that, Scrapy's disk queue fails
mid-write and leaves the spider waiting forever.

The data folder sits on a 64 MB tmpfs filled to its last 100 KB after the database is created,
so the crawl's writes fail as they would on a full disk. Needs root (mount); skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from monitor.sandbox import Sandbox, SandboxServer

SITE = "huaxiacang"
WTM = str(Path(sys.executable).with_name("wtm"))


@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def crawl(data: Path, origin: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "WTM_SANDBOX_URL": origin, "WTM_DOWNLOAD_DELAY": "0", "WTM_AUTOTHROTTLE": "false"}
    started = time.monotonic()
    result = subprocess.run([WTM, "--data-dir", str(data), "crawl", "--site", SITE, "--keyword", "象牙",
                             "--as-of", "2025-06-30"], env=env, capture_output=True, text=True, timeout=300)
    return result, time.monotonic() - started


def test_a_full_disk_fails_the_site_at_once_and_blocks_nothing(tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    subprocess.run([WTM, "--data-dir", str(data), "db", "upgrade"], check=True, capture_output=True)
    filler = tiny_disk / "filler"
    free = os.statvfs(tiny_disk)
    filler.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 100 * 1024))
    with SandboxServer(Sandbox(seed=20120101), port=0, month="2025-06") as server:
        full, seconds = crawl(data, server.url)
        assert full.returncode == 3, full.stderr[-2000:]
        assert seconds < 120
        assert f"{SITE}: UNHEALTHY" in full.stderr and "free on the disk" in full.stderr, full.stderr[-2000:]
        filler.unlink()
        again, _ = crawl(data, server.url)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{SITE}: ok" in again.stdout
