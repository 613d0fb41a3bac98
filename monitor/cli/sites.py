"""``wtm sites list`` and ``wtm sites check NAME``: see and repair site definitions."""

from __future__ import annotations

import sys

import click

from monitor.cli import EXIT_SITES_FAILED, State, month_callback, pass_state


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
    from monitor.crawling.parsers import strip_controls as shown_safely  # a page must not drive the terminal

    result = check_site(state.config, name, keyword)
    for title, page in (("search page", result.search), ("first listing", result.listing)):
        if page is None:
            click.secho(f"{title}: not reached", fg="yellow")
            continue
        click.secho(f"{title}: {shown_safely(page.url)}", bold=True)
        click.echo(f"  HTTP {page.status}, read as {shown_safely(page.encoding or '?')}")
        if page.error:
            click.secho(f"  error: {shown_safely(page.error)}", fg="red")
        for label, (selector, values) in page.selectors.items():
            colour = None if values else "red"
            shown = " | ".join(v[:80] for v in values[:5]) + (f"  (+{len(values) - 5} more)" if len(values) > 5 else "")
            click.secho(f"  {label:<12} {selector}", fg=colour)
            click.secho(f"  {'':<12} -> {shown_safely(shown) if values else 'NOTHING'}", fg=colour)
        for label, value in page.parsed.items():
            click.echo(f"  parsed {label:<8} {shown_safely(str(value))}")
    if not result.ok:
        click.secho(f"{name}: the definition does not read this site yet", fg="red", err=True)
        sys.exit(EXIT_SITES_FAILED)
    click.secho(f"{name}: ok (searched {result.keyword})", fg="green")


@sites_group.command("plan")
@click.argument("name")
@click.option("--month", callback=month_callback, metavar="YYYY-MM",
              help="Month to plan (default: this month). Yields of the months before it are read.")
@click.option("--budget", type=click.IntRange(1, None), metavar="N",
              help="Requests of the whole crawl to plan for (default: the requests_per_site setting).")
@click.option("--skipped/--no-skipped", default=True, show_default=True,
              help="Also list the candidate queries left out, with why.")
@pass_state
def plan_command(state: State, name: str, month: str | None, budget: int | None, skipped: bool) -> None:
    """Show the queries the next crawl of NAME sends, in order: each query as the site
    receives it, its kind and species, why it is in the plan (its yields in the last months,
    never run, or rotation) and the result pages it is expected to take; then the candidates
    left out (covered by another query on a substring search, the same query after conversion
    to the site's script, not encodable in its charset, over the budget)."""
    from datetime import datetime

    from monitor.crawling.planner import plan_sites
    from monitor.crawling.sites import sites_for_config

    config = state.config
    site = sites_for_config(config, [name])[name]
    month = month or datetime.now(config.tz).strftime("%Y-%m")
    db = _existing_database(config)
    try:
        plan = plan_sites(config, {name: site}, month, db=db, budget=budget)[name]
    finally:
        if db is not None:
            db.dispose()
    cap = f", results capped at {site.search_cap}" if site.search_cap else ""
    click.secho(f"{name} {month}: {len(plan.queries)} queries, about {plan.estimated_requests} of "
                f"{plan.budget} result pages; search matches {site.search_match}{cap}"
                + ("" if db is not None else "; no database yet, so no yields: prior order only"), bold=True)
    click.echo(f"budget: {plan.requests} requests, {plan.budget} of them for searching; the other "
               f"{plan.requests - plan.budget} kept for {plan.kept_for}")
    for index, q in enumerate(plan.queries, 1):
        source = "" if q.site_query == q.query else f" (from {q.query})"
        click.echo(f"{index:4d}. {_pad(repr(q.site_query) + source, 26)} {q.kind:<11} {q.species:<10} ~{q.cost}  {q.reason}")
    if skipped and plan.skipped:
        click.secho(f"left out: {len(plan.skipped)}", bold=True)
        for s in plan.skipped:
            click.echo(f"      {_pad(repr(s.site_query), 26)} {s.kind:<11} {s.species:<10} {s.why}")


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def _existing_database(config) -> object | None:
    """The configured database, or None when it is a SQLite file not created yet."""
    from monitor.storage import Database

    if config.db_url.startswith("sqlite") and not config.values.get("database_url") \
            and not (config.data_path / "wtm.sqlite3").exists():
        return None
    db = Database.from_config(config)
    db.check_current()
    return db
