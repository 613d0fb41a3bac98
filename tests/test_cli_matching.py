"""`wtm match` and `wtm keywords` through click's runner and the installed script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.exceptions import InputFileError, KeywordFileError
from monitor.matching import Lexicon

WTM = Path(sys.executable).parent / "wtm"

LINES = [
    json.dumps({"id": "a1", "title": "象牙手镯 老料", "description": "圈口56", "price": "1000"}, ensure_ascii=False),
    "{not json",
    json.dumps({"id": "a3", "title": "象牙白 乳胶漆", "description": "5升"}, ensure_ascii=False),
    "[1, 2]",
    json.dumps({"id": "a5", "title": "希角手镯", "description": "竹丝纹"}, ensure_ascii=False),
]


def test_match_reports_bad_lines_and_matches_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["match", "--input", str(source), "--output", str(out)])
    assert isinstance(result.exception, InputFileError)
    assert "line 2" in result.stderr and "line 4" in result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a3", "a5"]
    assert [r["flagged"] for r in rows] == [True, False, True]
    assert rows[0]["species"] == ["ivory"] and rows[2]["species"] == ["rhino_horn"]
    assert {"id", "flagged", "species", "score", "matches", "model"} <= set(rows[0])  # + what is on offer
    assert set(rows[0]["model"]) == {"probability", "decided_by", "version", "features"}
    assert rows[0]["matches"][0]["start"] == 0 and rows[0]["matches"][0]["field"] == "title"


def test_match_stdin_to_stdout_clean_input_exits_zero() -> None:
    good = "\n".join([LINES[0], LINES[2]]) + "\n"
    result = CliRunner().invoke(cli, ["match", "--input", "-"], input=good)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["flagged"] for r in rows] == [True, False]


def test_installed_script_exits_non_zero_on_bad_line(tmp_path: Path) -> None:
    if not WTM.exists():
        pytest.skip(f"{WTM} not installed")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    proc = subprocess.run([str(WTM), "match", "--input", str(source)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "line 2" in proc.stderr and "line 4" in proc.stderr
    assert len(proc.stdout.splitlines()) == 3


def test_keywords_test_explains_a_text() -> None:
    result = CliRunner().invoke(cli, ["keywords", "test", "象 牙 手鐲"])
    assert result.exit_code == 0, result.output
    assert "normalised: 象牙手镯" in result.output
    assert "tokens:" in result.output
    assert "separator" in result.output
    assert "verdict: FLAGGED ivory" in result.output
    innocent = CliRunner().invoke(cli, ["keywords", "test", "象牙白 乳胶漆"])
    assert "verdict: not flagged" in innocent.output and "innocent compound" in innocent.output


def test_keywords_list() -> None:
    result = CliRunner().invoke(cli, ["keywords", "list", "--species", "hawksbill"])
    assert result.exit_code == 0, result.output
    assert "玳瑁" in result.output and "带帽" in result.output and "ivory" not in result.output
    everything = CliRunner().invoke(cli, ["keywords", "list"])
    assert "search keywords in all" in everything.output
    bad = CliRunner().invoke(cli, ["keywords", "list", "--species", "dodo"])
    assert bad.exit_code != 0


def test_keywords_check_good_and_bad(tmp_path: Path) -> None:
    ok = CliRunner().invoke(cli, ["keywords", "check"])
    assert ok.exit_code == 0 and ok.output.startswith("OK")
    folder = tmp_path / "lex"
    shutil.copytree(Lexicon.load().source, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / "ivory.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - {term: 象牙, kind: name}", "  - {term: 象牙}"),
                    encoding="utf-8")
    bad = CliRunner().invoke(cli, ["keywords", "check", str(folder)])
    assert isinstance(bad.exception, KeywordFileError)
    assert "ivory.yaml" in str(bad.exception) and ".kind: missing required field" in str(bad.exception)


def test_configured_keywords_dir_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "lex"
    shutil.copytree(Lexicon.load().source, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / "leopard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("label: ", "label: CUSTOM "), encoding="utf-8")
    config = tmp_path / "wtm.toml"
    config.write_text(f'keywords_dir = "{folder}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "keywords", "list", "--species", "leopard"])
    assert result.exit_code == 0, result.output
    assert "CUSTOM" in result.output
