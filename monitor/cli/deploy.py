"""``wtm deploy``: put this wtm's egg on every Scrapyd node of ``scrapyd_urls``."""

from __future__ import annotations

import click

from monitor.cli import State, pass_state


@click.command("deploy")
@click.option("--force", is_flag=True, help="Upload even to nodes that have this version.")
@pass_state
def deploy_command(state: State, force: bool) -> None:
    """Build the Scrapy egg (wtm version + content hash) and upload it where a node lacks it.

    A node whose installed wtm differs from this one refuses the egg (exit 3)."""
    from monitor.nodes.deploy import deploy

    for done in deploy(state.config, force=force):
        click.echo(f"{done.node}: {done.version} {'uploaded' if done.uploaded else 'already there'}; "
                   f"{done.running} jobs running, {done.pending} pending")
