"""``wtm match``: flag the listings of a JSON Lines file, one verdict per line.

The file is read as bytes and each line decoded on its own, so one line that is not UTF-8 or not
a JSON object costs that line only: it is named on stderr as ``FILE:LINE: reason`` and skipped.
"""

from __future__ import annotations

import json
import logging
from typing import IO, Any

import click

from monitor.cli import State, pass_state
from monitor.cli.keywords import load_matcher
from monitor.exceptions import InputFileError
from monitor.matching import MAX_FIELD_CHARS, Matcher, MatchResult

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "description")
# Skipped lines named in the closing summary (each one is also reported as it is read).
SUMMARY_LINES = 10


class BadLine(ValueError):
    """Why one input line was skipped."""


def read_listing(raw: bytes, first: bool = False) -> dict[str, Any]:
    """One JSON Lines record: an object whose title and description are text (or absent)."""
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    try:
        record = json.loads(text)
    except RecursionError:
        raise BadLine("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON: {exc.msg} (column {exc.colno})") from None
    except ValueError as exc:  # an integer too long to convert
        raise BadLine(f"not usable JSON: {exc}") from None
    if not isinstance(record, dict):
        raise BadLine(f"expected a JSON object, got {_json_type(record)}")
    for key in TEXT_FIELDS:
        value = record.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadLine(f"field {key!r} must be text, got {_json_type(value)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            surrogate = f"\\u{ord(value[exc.start]):04x}"
            raise BadLine(f"field {key!r} holds half a UTF-16 surrogate pair ({surrogate})") from None
    return record


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


MATCH_HELP = f"""Flag listings in a JSON Lines file.

Each input line is a JSON object; its "title" and "description" (text, or null or absent) are
matched and its "id" is copied. Each output line is {{"id", "flagged", "species", "score",
"matches", "model"}}, plus "truncated" (the names of the fields cut) when a field is longer than
the matcher reads: only its first {MAX_FIELD_CHARS:,} characters are matched. "model" is the
learned second stage's verdict: its probability, whether the rules or the model decided ("model
only": flagged with no rule evidence, for review), its version and its strongest features.

A line that cannot be used (not UTF-8, not JSON, JSON nested too deeply, not a JSON object, a
title or description that is not text) is reported on stderr as FILE:LINE: REASON and skipped;
every other line is still matched and written. Blank lines are ignored.

Exit status: 0 when every line was matched; 2 when any line was skipped (the verdicts on the
good lines are written all the same).
"""


@click.command("match", help=MATCH_HELP)
@click.option("--input", "input_file", required=True, type=click.File("rb"),
              help="JSON Lines with id, title, description ('-' for stdin).")
@click.option("--output", "output_file", default="-", type=click.File("w", encoding="utf-8"),
              help="Where to write one verdict per line (default '-': stdout).")
@pass_state
def match_command(state: State, input_file: IO[bytes], output_file: IO[str]) -> None:
    matcher = load_matcher(state)
    name = getattr(input_file, "name", None)
    name = name if isinstance(name, str) and name != "-" else "<stdin>"
    skipped: list[int] = []
    total = 0
    for number, raw in enumerate(input_file, 1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        total += 1
        try:
            record = read_listing(raw, first=number == 1)
            result = match_listing(matcher, record)
            row = verdict_line(record, result)
        except BadLine as exc:
            skipped.append(number)
            click.echo(f"{name}:{number}: {exc}", err=True)
            continue
        output_file.write(row + "\n")
    output_file.flush()
    if skipped:
        listed = ", ".join(f"line {n}" for n in skipped[:SUMMARY_LINES])
        more = f" and {len(skipped) - SUMMARY_LINES} more" if len(skipped) > SUMMARY_LINES else ""
        click.echo(f"{name}: skipped {listed}{more}; matched the other {total - len(skipped)} of {total} lines",
                   err=True)
        raise InputFileError(f"{name}: {len(skipped)} of {total} lines skipped")


def match_listing(matcher: Matcher, record: dict[str, Any]) -> MatchResult:
    """The verdict on one record; a failure of the matcher costs this line, not the file."""
    try:
        return matcher.match({k: record[k] for k in TEXT_FIELDS if record.get(k)})
    except Exception as exc:  # a matcher bug: say so, keep going with the other lines
        logger.debug("matching failed", exc_info=True)
        raise BadLine(f"the matcher failed on this line ({type(exc).__name__}: {exc}); please report it") from None


def verdict_line(record: dict[str, Any], result: MatchResult) -> str:
    """The output line: the record's id and the verdict, as JSON."""
    try:
        row = json.dumps({"id": record.get("id"), **result.to_dict()}, ensure_ascii=False)
        row.encode("utf-8")
    except RecursionError:
        raise BadLine('"id" is nested too deeply to write back') from None
    except UnicodeEncodeError:
        raise BadLine('"id" holds half a UTF-16 surrogate pair') from None
    except ValueError as exc:
        raise BadLine(f'"id" cannot be written back: {exc}') from None
    return row
