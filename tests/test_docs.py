"""The README documents every setting and every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import COMMANDS
from monitor.config import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"wtm {name}" in README


def test_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
