"""`wtm sandbox`: serve the simulated marketplaces and write their ground truth."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

import click

from monitor.cli import State, pass_state
from monitor.exceptions import InputFileError

if TYPE_CHECKING:
    from monitor.sandbox import Sandbox

DEFAULT_SEED = 20120101


def _world(seed: int) -> Sandbox:
    from monitor.sandbox import Sandbox

    return Sandbox(seed=seed)


def _check_month(world: Sandbox, month: str | None) -> None:
    if month is not None and month not in world.months:
        raise click.BadParameter(f"{month!r} is not a simulated month ({world.months[0]}..{world.months[-1]})",
                                 param_hint="--month")


@click.group("sandbox")
def sandbox_group() -> None:
    """Serve the 30 simulated marketplaces on 127.0.0.1 and write their ground truth."""


@sandbox_group.command("serve")
@click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
@click.option("--month", metavar="YYYY-MM", help="Simulated month to serve (default: the last one).")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Seed of the simulated world.")
@pass_state
def serve_command(state: State, port: int, month: str | None, seed: int) -> None:
    """Serve every site under http://127.0.0.1:PORT/<site>/ until interrupted."""
    from monitor.sandbox import SandboxServer

    started = time.monotonic()
    world = _world(seed)
    _check_month(world, month)
    try:
        server = SandboxServer(world, port=port, month=month)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    if not state.quiet:
        click.echo(f"Sandbox: {len(world.sites)} sites at {server.url}/<site>/ serving {server.month} "
                   f"(seed {seed}, ready in {time.monotonic() - started:.1f} s). Ctrl-C stops it.")
        click.echo(f"Admin: {server.url}/__admin__/state  robots: {server.url}/robots.txt")
    click.echo(server.url, err=state.quiet)
    threading.Thread(target=world.warm, name="sandbox-warm", daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@sandbox_group.command("truth")
@click.option("--month", required=True, metavar="YYYY-MM", help="Simulated month.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Seed of the simulated world.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="JSON Lines file (default: standard output).")
@pass_state
def truth_command(state: State, month: str, seed: int, output: str | None) -> None:
    """Write every listing of MONTH (live or removed during it) as JSON Lines."""
    world = _world(seed)
    _check_month(world, month)
    lines = [json.dumps(row, ensure_ascii=False) for row in world.truth(month)]
    text = "\n".join(lines) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputFileError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if not state.quiet:
        illegal = sum(1 for row in world.truth(month) if row["illegal"])
        click.echo(f"Wrote {len(lines)} listings of {month} ({illegal} offering protected species) to {output}")
