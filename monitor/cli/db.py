"""``wtm db``: create, upgrade, inspect and downgrade the database schema."""

from __future__ import annotations

import click

from monitor.cli import State, pass_state


@click.group("db")
def db_group() -> None:
    """Create and upgrade the database (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@pass_state
def upgrade(state: State, revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest); creates a new database too."""
    from monitor.storage import Database

    db = Database.from_config(state.config)
    before = db.current_revision()
    db.upgrade(revision)
    after = db.current_revision()
    if before == after:
        click.echo(f"database already at {after}: {db!r}")
    else:
        click.echo(f"database upgraded {before or '(empty)'} -> {after}: {db!r}")


@db_group.command("status")
@pass_state
def status(state: State) -> None:
    """Show the database's revision and any migrations still to apply (exits 4 if behind, or if
    ahead: at a revision a newer wtm wrote; 5 if another process holds it locked)."""
    from monitor.exceptions import SchemaOutdatedError
    from monitor.storage import Database

    db = Database.from_config(state.config)
    info = db.status()
    click.echo(f"database: {db!r}")
    click.echo(f"current revision: {info['current'] or '(empty)'}")
    click.echo(f"latest revision:  {info['head']}")
    if info["up_to_date"]:
        click.echo("up to date")
        return
    for line in info["pending"]:
        click.echo(f"pending: {line}")
    raise SchemaOutdatedError(f"database is behind ({len(info['pending'])} migration(s) pending): run `wtm db upgrade`")


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def downgrade(state: State, revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ("base" empties the database; data in dropped tables is lost)."""
    from monitor.storage import Database

    db = Database.from_config(state.config)
    if not yes:
        click.confirm(f"Downgrade {db!r} to {revision}? Data in dropped tables and columns is lost", abort=True)
    db.downgrade(revision)
    click.echo(f"database now at {db.current_revision() or '(empty)'}")
