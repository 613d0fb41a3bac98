"""Health history per site (issue 10): the planner gives a site different queries every month, and
a breakage in the second month is still caught against the first. Real crawls of a sandbox site
over HTTP, its site file broken (the price selector no longer matches) in a copy for month two."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.crawling import run_crawl
from monitor.crawling.health import MIN_ITEMS_TO_COMPARE
from monitor.crawling.sites import shipped_sites_dir
from monitor.months import month_end
from monitor.sandbox import Sandbox, SandboxServer

SEED = 20120101
SITE = "linlitie"  # search only, substring search: single characters find many ads
CANDIDATES = "的出元售转让新全品正老手机车包装用原价二成色"


@pytest.fixture(scope="module")
def served() -> tuple[Sandbox, SandboxServer]:
    world = Sandbox(seed=SEED)
    with SandboxServer(world, port=0, month=world.months[-3]) as server:
        yield world, server


def queries(world: Sandbox, month: str, skip: set[str]) -> list[str]:
    """The three candidates that find most ads this month, none of ``skip``."""
    counts = {c: len(world.search(SITE, c, month)) for c in CANDIDATES if c not in skip}
    return sorted(counts, key=lambda c: -counts[c])[:3]


def crawl(server: SandboxServer, config: Config, month: str, keywords: list[str]):
    server.set_month(month)
    summary = run_crawl(config, sites=[SITE], keywords=keywords, as_of=month_end(month, config.tz),
                        progress=False, polite=False)
    return summary.sites[SITE]


def broken_sites_dir(folder: Path) -> Path:
    folder.mkdir()
    for path in shipped_sites_dir().glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    site = folder / f"{SITE}.yaml"
    text = site.read_text(encoding="utf-8")
    assert "th='价格'" in text
    site.write_text(text.replace("th='价格'", "th='售价'"), encoding="utf-8")  # the site renamed its label
    return folder


def test_a_collapse_is_caught_although_the_queries_changed(served: tuple[Sandbox, SandboxServer], tmp_path: Path) -> None:
    world, server = served
    first_month, second_month = world.months[-3], world.months[-2]
    first = queries(world, first_month, set())
    second = queries(world, second_month, set(first))
    assert not set(first) & set(second)

    data = tmp_path / "data"
    config = load_config(overrides={"data_dir": str(data), "sandbox_url": server.url}, environ={})
    before = crawl(server, config, first_month, first)
    assert before.healthy, before.problems
    assert before.items >= MIN_ITEMS_TO_COMPARE and before.coverage["price"] >= 0.5
    assert before.reach.queries == 3

    # A twin data folder whose site file broke in month two; the history is the first crawl's.
    twin = tmp_path / "twin"
    shutil.copytree(data, twin)
    broken = load_config(overrides={"data_dir": str(twin), "sandbox_url": server.url,
                                    "sites_dir": str(broken_sites_dir(tmp_path / "sites"))}, environ={})
    after = crawl(server, broken, second_month, second)
    assert after.items >= MIN_ITEMS_TO_COMPARE
    assert not after.healthy
    assert any(p.startswith("price coverage fell from") for p in after.problems), after.problems

    # The same month with the site file intact is healthy: the new queries alone are no breakage.
    fine = crawl(server, config, second_month, second)
    assert fine.healthy, fine.problems
