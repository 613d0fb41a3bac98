"""``wtm match``: flag the listings of a JSON Lines file, one verdict per line."""

from __future__ import annotations

import json
from typing import IO

import click

from monitor.cli import State, pass_state
from monitor.cli.keywords import load_matcher
from monitor.exceptions import InputFileError


@click.command("match")
@click.option("--input", "input_file", required=True, type=click.File("r", encoding="utf-8"),
              help="JSON Lines with id, title, description ('-' for stdin).")
@click.option("--output", "output_file", default="-", type=click.File("w", encoding="utf-8"),
              help="Where to write one verdict per line (default '-': stdout).")
@pass_state
def match_command(state: State, input_file: IO[str], output_file: IO[str]) -> None:
    """Flag listings in a JSON Lines file.

    Each output line is {"id", "flagged", "species", "score", "matches"}. A malformed line is
    reported on stderr with its line number and skipped; the exit status is then non-zero.
    """
    matcher = load_matcher(state)
    bad = 0
    total = 0
    for number, line in enumerate(input_file, 1):
        if not line.strip():
            continue
        total += 1
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
            fields = {k: record.get(k) for k in ("title", "description")}
            for key, value in fields.items():
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"field {key!r} must be a string")
        except ValueError as exc:
            bad += 1
            click.echo(f"{input_file.name}: line {number}: malformed listing: {exc}", err=True)
            continue
        result = matcher.match({k: v for k, v in fields.items() if v})
        row = {"id": record.get("id"), **result.to_dict()}
        output_file.write(json.dumps(row, ensure_ascii=False) + "\n")
    output_file.flush()
    if bad:
        raise InputFileError(f"{input_file.name}: {bad} of {total} lines malformed (see above); the rest were matched")
