"""``wtm config``: show what the monitor will use and where each value came from."""

from __future__ import annotations

import json

import click

from monitor.cli import State, pass_state
from monitor.config import mask_url


@click.group("config")
def config_group() -> None:
    """Show the effective configuration."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def show(state: State, as_json: bool) -> None:
    """Print every setting, its value (secrets masked) and where it came from."""
    config = state.config
    values = config.masked()
    values["database_url (effective)"] = mask_url(config.db_url)
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"configuration file: {config.config_file or '(none)'}")
    for name, value in values.items():
        origin = config.sources.get(name, "derived")
        click.echo(f"{name:28} {value!s:40} ({origin})")
