"""``wtm crawl``: crawl every site, or rerun one."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from monitor.cli import EXIT_SITES_FAILED, State, pass_state


def _as_of(value: str | None, tz) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2025-06-30 or 2025-06-30T12:00, got {value!r}") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@click.command("crawl")
@click.option("--all", "all_sites", is_flag=True, help="Crawl every site definition (or the configured sites).")
@click.option("--site", "sites", multiple=True, metavar="NAME", help="Crawl only this site (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="K", help="Search only this keyword (repeatable).")
@click.option("--as-of", "as_of", metavar="DATE", help="Record the observations at this time (default: now).")
@pass_state
def crawl_command(state: State, all_sites: bool, sites: tuple[str, ...], keywords: tuple[str, ...], as_of: str | None) -> None:
    """Crawl every site (--all) or rerun some (--site NAME), storing what is found.

    An interrupted crawl of the same month resumes where it stopped. Exits 3 when a site was
    unhealthy (no listings, far fewer than last time, broken fields, or not finished).
    """
    from monitor.crawljobs import crawl
    from monitor.crawling.sites import sites_for_config
    from monitor.storage.search import refresh_after_crawl

    if all_sites == bool(sites):
        raise click.UsageError("give either --all or --site NAME")
    config = state.config
    if sites:  # a site named on purpose whose file is broken is bad input (exit 2), not a failed site
        sites_for_config(config, sites)
    summary = crawl(
        config,
        sites=list(sites) or None,
        keywords=list(keywords) or None,
        as_of=_as_of(as_of, config.tz),
        progress=not state.quiet,
    )
    refresh_after_crawl(config)  # what the crawl stored is searchable in a running wtm serve
    for name in sorted(summary.sites):
        health = summary.sites[name]
        if health.healthy:
            click.echo(f"{name}: ok, {health.items} listings, {health.pages} pages")
        else:
            click.secho(f"{name}: UNHEALTHY: {'; '.join(health.problems)}", fg="red", err=True)
    click.echo(f"{len(summary.sites)} sites, {summary.items} listings, {summary.pages} pages; log {summary.log_file}")
    if summary.failed_sites:
        sys.exit(EXIT_SITES_FAILED)
