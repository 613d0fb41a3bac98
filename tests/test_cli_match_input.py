"""``wtm match`` on hostile input: each bad line is named as FILE:LINE: REASON and skipped, every
good line is still matched and written, and the exit status is 2 when a line was skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.exceptions import InputFileError

WTM = Path(sys.executable).parent / "wtm"


def line(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


GOOD_IVORY = line({"id": "g1", "title": "象牙手镯 老料", "description": "圈口56"})
GOOD_PAINT = line({"id": "g2", "title": "象牙白 乳胶漆", "description": "5升"})
GOOD_RHINO = line({"id": "g3", "title": "希角手镯", "description": "竹丝纹"})

HOSTILE = [
    GOOD_IVORY,                                          # 1
    "象牙手镯 老料".encode("gbk"),                         # 2 not UTF-8
    b"[" * 100_000,                                       # 3 nested past the recursion limit
    b'"just a string"',                                   # 4 not an object
    GOOD_PAINT,                                           # 5
    b"",                                                  # 6 blank: ignored
    line({"id": "b7", "title": ["象牙"]}),                 # 7 title not text
    line({"id": "b8", "description": 42}),                # 8 description not text
    b'{"id": "b9", "title": "\\ud800\xe8\xb1\xa1\xe7\x89\x99"}',  # 9 half a surrogate pair
    b"{truncated",                                        # 10 not JSON
    line({"id": "g11"}),                                  # 11 no text at all: a clean verdict
    line({"id": "g12", "title": None, "description": "象牙手镯"}),  # 12 null title is empty
    GOOD_RHINO,                                           # 13
]
BAD_LINES = {2: "not UTF-8", 3: "nested too deeply", 4: "expected a JSON object", 7: "'title' must be text",
             8: "'description' must be text", 9: "surrogate", 10: "not JSON"}


@pytest.fixture()
def hostile_file(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(HOSTILE) + b"\n")
    return path


def check_output(stdout: str, stderr: str, name: str) -> None:
    rows = [json.loads(x) for x in stdout.splitlines()]
    assert [r["id"] for r in rows] == ["g1", "g2", "g11", "g12", "g3"]
    assert [r["flagged"] for r in rows] == [True, False, False, True, True]
    assert rows[0]["species"] == ["ivory"] and rows[4]["species"] == ["rhino_horn"]
    numbers = {}
    for report in stderr.splitlines():
        where = report[len(name) + 1:].split(":")[0] if report.startswith(f"{name}:") else ""
        if where.isdigit():
            numbers[int(where)] = report
    assert set(numbers) == set(BAD_LINES), stderr
    for number, reason in BAD_LINES.items():
        assert reason in numbers[number], numbers[number]
    assert "skipped line 2, line 3, line 4, line 7, line 8, line 9, line 10" in stderr
    assert "matched the other 5 of 12 lines" in stderr


def test_installed_script_skips_bad_lines_and_exits_2(hostile_file: Path) -> None:
    if not WTM.exists():
        pytest.skip(f"{WTM} not installed")
    proc = subprocess.run([str(WTM), "match", "--input", str(hostile_file)], capture_output=True, timeout=300)
    stderr = proc.stderr.decode("utf-8")
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    check_output(proc.stdout.decode("utf-8"), stderr, str(hostile_file))


def test_runner_writes_good_lines_to_output_file(hostile_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["match", "--input", str(hostile_file), "--output", str(out)])
    assert isinstance(result.exception, InputFileError), result.output
    check_output(out.read_text(encoding="utf-8"), result.stderr, str(hostile_file))


def test_stdin_is_named_and_clean_input_exits_0() -> None:
    bad = CliRunner().invoke(cli, ["match", "--input", "-"], input=b"\n".join([GOOD_IVORY, b"\xff\xfe"]) + b"\n")
    assert isinstance(bad.exception, InputFileError)
    assert "<stdin>:2: not UTF-8 text" in bad.stderr
    assert len(bad.stdout.splitlines()) == 1
    # a byte-order mark on the first line and Windows line ends are fine
    good = CliRunner().invoke(cli, ["match", "--input", "-"],
                              input=b"\xef\xbb\xbf" + GOOD_IVORY + b"\r\n" + GOOD_PAINT + b"\r\n")
    assert good.exit_code == 0, good.output
    assert [json.loads(x)["flagged"] for x in good.stdout.splitlines()] == [True, False]


def test_long_description_is_cut_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "long.jsonl"
    source.write_bytes(line({"id": "long", "title": "老物件", "description": "九成新 " * 10_000 + "象牙手镯"}) + b"\n")
    result = CliRunner().invoke(cli, ["match", "--input", str(source)])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["truncated"] == ["description"] and row["flagged"] is False


def test_help_documents_bad_lines_and_exit_status() -> None:
    result = CliRunner().invoke(cli, ["match", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "FILE:LINE: REASON" in text and "2 when any line was skipped" in text
    assert "20,000 characters" in text and '"truncated"' in text
