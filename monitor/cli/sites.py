"""``wtm sites list`` and ``wtm sites check NAME``: see and repair site definitions."""

from __future__ import annotations

import sys

import click

from monitor.cli import EXIT_SITES_FAILED, State, pass_state


@click.group("sites")
def sites_group() -> None:
    """List and check site definitions (spiders/sites/*.yaml and sites_dir)."""


@sites_group.command("list")
@pass_state
def list_command(state: State) -> None:
    """Every site definition, and the files that do not validate."""
    from monitor.crawling.sites import load_sites

    config = state.config
    errors: list = []
    sites = load_sites(config.sites_dir or None, errors=errors)
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "platform", "script", "charset", "crawl", "base URL", "file", box=None)
    for name in sorted(sites):
        site = sites[name]
        script = site.script + (f" ({site.variant})" if site.script == "traditional" else "")
        table.add_row(name, site.platform, script, site.charset, site.crawl, site.base_url_template,
                      str(site.source_file.name if site.source_file else ""))
    console = Console(soft_wrap=True)
    console.print(table)
    console.print(f"{len(sites)} sites")
    for error in errors:
        click.secho(f"invalid: {error}", fg="red", err=True)
    if errors:
        sys.exit(2)


@sites_group.command("check")
@click.argument("name")
@click.option("--keyword", "-k", metavar="K", help="Search keyword (Simplified; converted for Traditional sites). Default 象牙.")
@pass_state
def check_command(state: State, name: str, keyword: str | None) -> None:
    """Fetch one search page of NAME and show what each selector extracts, then the same
    for the first listing. Exits 3 when no listing title could be read."""
    from monitor.crawling.check import check_site

    result = check_site(state.config, name, keyword)
    for title, page in (("search page", result.search), ("first listing", result.listing)):
        if page is None:
            click.secho(f"{title}: not reached", fg="yellow")
            continue
        click.secho(f"{title}: {page.url}", bold=True)
        click.echo(f"  HTTP {page.status}, read as {page.encoding or '?'}")
        if page.error:
            click.secho(f"  error: {page.error}", fg="red")
        for label, (selector, values) in page.selectors.items():
            colour = None if values else "red"
            shown = " | ".join(v[:80] for v in values[:5]) + (f"  (+{len(values) - 5} more)" if len(values) > 5 else "")
            click.secho(f"  {label:<12} {selector}", fg=colour)
            click.secho(f"  {'':<12} -> {shown if values else 'NOTHING'}", fg=colour)
        for label, value in page.parsed.items():
            click.echo(f"  parsed {label:<8} {value}")
    if not result.ok:
        click.secho(f"{name}: the definition does not read this site yet", fg="red", err=True)
        sys.exit(EXIT_SITES_FAILED)
    click.secho(f"{name}: ok (searched {result.keyword})", fg="green")
