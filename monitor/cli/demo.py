"""``wtm demo``: a year of simulated monitoring, ending with the path of a report."""

from __future__ import annotations

import time

import click

from monitor.cli import State, pass_state


@click.command("demo")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 24),
              help="How many simulated months to crawl and report.")
@click.option("--seed", default=None, type=int, help="Seed of the simulated world (default: the demo's).")
@pass_state
def demo_command(state: State, months: int, seed: int | None) -> None:
    """Start the simulated marketplaces on a free loopback port, crawl the last MONTHS
    simulated months into a fresh SQLite database in the data folder, file takedown
    requests so removals show, and write each month's report. Prints the last report's path."""
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
        click.secho(f"{month}: sites reported unhealthy (the report says so): {', '.join(sites)}",
                    fg="yellow", err=True)
    click.echo(f"database: {outcome.database}", err=True)
    click.echo(str(outcome.last_report))
