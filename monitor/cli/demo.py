"""``wtm demo``: six months of simulated monitoring, ending with the path of a report."""

from __future__ import annotations

import sys
import time

import click

from monitor.cli import EXIT_SITES_FAILED, State, pass_state


@click.command("demo")
@click.option("--months", default=6, show_default=True, type=click.IntRange(1, 24),
              help="How many simulated months to crawl and report.")
@click.option("--seed", default=None, type=int, help="Seed of the simulated world (default: the demo's).")
@pass_state
def demo_command(state: State, months: int, seed: int | None) -> None:
    """Start the simulated marketplaces on a free loopback port, crawl the last MONTHS
    simulated months into a fresh SQLite database in the data folder, file takedown
    requests so removals show, and write each month's report. Prints the last report's path.
    The demo's query plans are smaller than a real monthly crawl's (it says so), to keep it short.

    Exits 0 when every unhealthy site is one the sandbox makes fail on purpose (naming its
    faults), 3 when a site failed beyond them."""
    from monitor.demo import DEMO_SEED, run_demo
    from monitor.logs import setup_file_logging

    config = state.config
    setup_file_logging(config, "demo.log")
    started = time.monotonic()

    def step(message: str) -> None:
        if not state.quiet:
            click.echo(f"{time.monotonic() - started:6.0f}s  {message}", err=True)

    outcome = run_demo(config, months=months, seed=DEMO_SEED if seed is None else seed, on_step=step)
    for month, sites in outcome.failed_sites.items():
        named = [f"{site} (deliberate faults: {', '.join(outcome.site_faults[site])})" if outcome.site_faults.get(site)
                 else f"{site} (no deliberate fault)" for site in sites]
        click.secho(f"{month}: sites reported unhealthy (the report says so): {'; '.join(named)}",
                    fg="yellow", err=True)
    if outcome.requests_per_site < outcome.real_requests_per_site:
        click.echo(f"budget: {outcome.requests_per_site} requests per site and month, smaller than a real "
                   f"monthly crawl's {outcome.real_requests_per_site} (requests_per_site)", err=True)
    click.echo(f"database: {outcome.database}", err=True)
    click.echo(str(outcome.last_report))
    if outcome.unexplained_failures:
        click.secho("sites failed beyond the sandbox's deliberate faults: "
                    + "; ".join(f"{m}: {', '.join(s)}" for m, s in outcome.unexplained_failures.items()),
                    fg="red", err=True)
        sys.exit(EXIT_SITES_FAILED)
