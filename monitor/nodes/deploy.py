"""``wtm deploy``: the egg on every node, uploaded where a node lacks this version."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from monitor.config import Config
from monitor.exceptions import ConfigError
from monitor.nodes.egg import PROJECT, Egg, build_egg
from monitor.nodes.scrapyd import ScrapydNode

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deployed:
    node: str
    version: str
    uploaded: bool
    spiders: int
    running: int = 0
    pending: int = 0


def nodes_of(config: Config) -> list[ScrapydNode]:
    """The configured Scrapyd nodes; ConfigError when there are none or the database is SQLite
    (a file on this machine, which no node can write into)."""
    urls = list(config.scrapyd_urls or [])
    if not urls:
        raise ConfigError(f"{config.sources.get('scrapyd_urls', 'configuration')}: scrapyd_urls: no Scrapyd node configured")
    if config.db_url.startswith("sqlite"):
        raise ConfigError("scrapyd_urls needs a shared database: set database_url to a PostgreSQL URL "
                          "(a SQLite file on this machine cannot be written by the nodes)")
    return [ScrapydNode(url) for url in urls]


def deploy(config: Config, force: bool = False) -> list[Deployed]:
    """Upload this wtm's egg to every node that does not have it (all with ``force``).

    Scrapyd lists the project's spiders on upload by running the node's installed wtm with the
    egg, so a node running another wtm version refuses the egg here (CrawlError naming both)."""
    egg = build_egg()
    done = []
    for node in nodes_of(config):
        try:
            done.append(deploy_to(node, egg, force))
        finally:
            node.close()
    return done


def deploy_to(node: ScrapydNode, egg: Egg, force: bool = False) -> Deployed:
    """``egg`` on ``node`` unless it is there already; NodeUnreachable when the node does not answer."""
    present = egg.stored_as in node.versions(PROJECT)
    spiders = 0
    if force or not present:
        spiders = int(node.add_version(PROJECT, egg.version, egg.data).get("spiders", 0))
        logger.info("%s: deployed %s %s (%d spiders)", node.name, PROJECT, egg.version, spiders)
    status = node.status()
    return Deployed(node.name, egg.version, force or not present, spiders, int(status.get("running", 0)),
                    int(status.get("pending", 0)))
