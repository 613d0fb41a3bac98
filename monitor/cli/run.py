"""``wtm run-monthly`` and ``wtm schedule``: the monthly job, once or on its schedule."""

from __future__ import annotations

import signal
import sys
import threading

import click

from monitor.cli import EXIT_SITES_FAILED, State, month_callback, pass_state




@click.command("run-monthly")
@click.option("--month", callback=month_callback, metavar="YYYY-MM",
              help="Month to report on (default: the last complete month).")
@pass_state
def run_monthly_command(state: State, month: str | None) -> None:
    """Crawl every enabled site, then write the month's report (for cron or systemd timers).

    Exits 0 when every site was crawled, 3 when some failed (the report is still written
    and names them).
    """
    from monitor.crawling.runner import open_database
    from monitor.logs import setup_file_logging
    from monitor.monthly import run_monthly

    config = state.config
    setup_file_logging(config)
    open_database(config)
    outcome = run_monthly(config, month=month, progress=not state.quiet and sys.stderr.isatty())
    click.echo(str(outcome.report_path))
    if outcome.failed_sites:
        click.secho(f"sites that failed: {', '.join(outcome.failed_sites)}", fg="yellow", err=True)
        sys.exit(EXIT_SITES_FAILED)


@click.command("schedule")
@pass_state
def schedule_command(state: State) -> None:
    """Run the monthly job on the configured cron schedule until stopped (Ctrl-C).

    The schedule is kept in the monitor's database: a run missed while the machine was
    off runs once on restart, and a run is never started while the last is going.
    """
    from monitor.crawling.runner import open_database
    from monitor.logs import setup_file_logging
    from monitor.scheduler import MonthlyScheduler

    config = state.config
    setup_file_logging(config)
    open_database(config)
    overrides = {k: v for k, v in config.values.items() if config.sources.get(k) == "command line"}
    scheduler = MonthlyScheduler(config, overrides=overrides)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    click.echo(f"scheduled '{config.schedule}' ({config.timezone}); next run {scheduler.next_run_time}")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown()
