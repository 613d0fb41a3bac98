"""The ``wtm`` command line: a thin layer over the library.

Each command group lives in its own module here and is loaded only when used, so
``wtm --help`` stays fast and a broken optional part cannot stop the others.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from monitor.config import Config, load_config, redact
from monitor.exceptions import (
    ConfigError,
    CrawlError,
    CrawlLockedError,
    DatabaseLockedError,
    InputFileError,
    KeywordFileError,
    MonitorError,
    SchemaNewerError,
    SchemaOutdatedError,
    SiteFileError,
)

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_SITES_FAILED = 3
EXIT_DB_OUTDATED = 4  # the schema and the code disagree: database behind (or ahead of) the code
EXIT_LOCKED = 5  # something else holds a lock: a crawl of the same site, or the whole database
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM, as shells report a SIGINT death

# The most specific class in an error's MRO decides; an unlisted MonitorError exits 1.
EXIT_CODES: dict[type[MonitorError], int] = {
    ConfigError: EXIT_BAD_INPUT,
    KeywordFileError: EXIT_BAD_INPUT,
    SiteFileError: EXIT_BAD_INPUT,
    InputFileError: EXIT_BAD_INPUT,
    SchemaOutdatedError: EXIT_DB_OUTDATED,
    SchemaNewerError: EXIT_DB_OUTDATED,
    CrawlLockedError: EXIT_LOCKED,
    DatabaseLockedError: EXIT_LOCKED,
    CrawlError: EXIT_SITES_FAILED,
}


def exit_code(exc: MonitorError) -> int:
    """The exit code of ``exc``: its own class's, else its nearest listed base class's."""
    return next((EXIT_CODES[kind] for kind in type(exc).__mro__ if kind in EXIT_CODES), EXIT_ERROR)

# command name -> (module under monitor.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "match": ("match", "match_command", "Flag listings in a JSON Lines file."),
    "keywords": ("keywords", "keywords_group", "Inspect and check the lexicon."),
    "model": ("model", "model_group", "Train and measure the matcher's learned second stage."),
    "sandbox": ("sandbox", "sandbox_group", "Serve the simulated marketplaces."),
    "sites": ("sites", "sites_group", "List and check site definitions."),
    "crawl": ("crawl", "crawl_command", "Crawl every site, or rerun one."),
    "deploy": ("deploy", "deploy_command", "Upload the crawl's Scrapy egg to every Scrapyd node."),
    "db": ("db", "db_group", "Create and upgrade the database."),
    "takedown": ("takedown", "takedown_group", "Export and record takedown requests."),
    "review": ("review", "review_group", "Export and import analysts' review decisions."),
    "dealers": ("dealers", "dealers_group", "Write a dealer's dossier for enforcement."),
    "report": ("report", "report_command", "Write the monthly briefing."),
    "run-monthly": ("run", "run_monthly_command", "Crawl every site, then write the month's report."),
    "schedule": ("run", "schedule_command", "Run the monthly job on its schedule."),
    "demo": ("demo", "demo_command", "Crawl 12 simulated months and write their reports."),
    "config": ("config", "config_group", "Show the effective configuration."),
    "serve": ("serve", "serve_command", "Serve the analyst's workbench (review queue, evidence, dealers, search)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        module = importlib.import_module(f"monitor.cli.{module_name}")
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class State:
    """What the top-level options decide, handed to every command."""

    def __init__(self, config_path: str | None, overrides: dict[str, Any], verbosity: int) -> None:
        self._config_path = config_path
        self._overrides = overrides
        self._config: Config | None = None
        self.verbosity = verbosity

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self._config_path, self._overrides)
        return self._config

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0


pass_state = click.make_pass_decorator(State)


def month_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate a ``--month YYYY-MM`` option (None passes: the option was not given)."""
    from monitor.months import parse_month

    if value is not None:
        try:
            parse_month(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        value = value.strip()
    return value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wildlife-trade-monitor", prog_name="wtm")
@click.option("--config", "config_path", metavar="FILE", help="Configuration file (default: $WTM_CONFIG or ./wtm.toml).")
@click.option("--data-dir", metavar="DIR", help="Data folder (overrides the configuration).")
@click.option("--database-url", metavar="URL", help="Database URL (overrides the configuration).")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Print debugging detail.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    data_dir: str | None,
    database_url: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """wildlife-trade-monitor: monthly monitoring of online marketplaces for illegal
    wildlife products (ivory, rhino horn, hawksbill, hornbill, tiger, saiga, pangolin, leopard)."""
    verbosity = -1 if quiet else (1 if verbose else 0)
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = State(config_path, {"data_dir": data_dir, "database_url": database_url}, verbosity)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``wtm`` script: maps library errors to exit codes."""
    try:
        code = cli.main(args=argv, prog_name="wtm", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Interrupted; an interrupted crawl resumes at the next `wtm crawl` of the same month.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_BAD_INPUT if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MonitorError as exc:
        click.secho(f"{type(exc).__name__}: {redact(str(exc))}", fg="red", err=True)
        sys.exit(exit_code(exc))
    sys.exit(code if isinstance(code, int) else EXIT_OK)
