"""Lexicon YAML read with line numbers, and typed field access whose errors name file, line and field.

Shared by every file of a lexicon folder (the species files, the shared files and ``species.yaml``),
so each reports a mistake the same way: ``keywords/tiger.yaml:12: terms[3].kind: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.exceptions import KeywordFileError


@dataclass
class Node:
    value: Any
    line: int


def _plain(node: yaml.Node, path: str, loader: yaml.SafeLoader) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise KeywordFileError(f"{path}:{key_node.start_mark.line + 1}: keys must be strings")
            if key in out:
                raise KeywordFileError(f"{path}:{key_node.start_mark.line + 1}: {key}: duplicate key")
            out[key] = _plain(value_node, path, loader)
        return Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_plain(item, path, loader) for item in node.value], line)
    return Node(loader.construct_object(node), line)


def read_yaml(path: Path, shown: str) -> Node:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeywordFileError(f"{shown}: cannot read: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise KeywordFileError(f"{shown}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise KeywordFileError(f"{shown}:1: file is empty")
    node = _plain(root, shown, yaml.SafeLoader(""))
    if not isinstance(node.value, dict):
        raise KeywordFileError(f"{shown}:{node.line}: the top level must be a mapping")
    return node


class Fields:
    """Typed access to one mapping node, raising errors that name file, line and field."""

    def __init__(self, node: Node, shown: str, where: str = "") -> None:
        self.node, self.shown, self.where = node, shown, where
        self.map: dict[str, Node] = node.value

    def fail(self, name: str, message: str, line: int | None = None) -> KeywordFileError:
        at = line if line is not None else self.node.line
        return KeywordFileError(f"{self.shown}:{at}: {self.where}{name}: {message}")

    def check_keys(self, allowed: set[str]) -> None:
        for key, value in self.map.items():
            if key not in allowed:
                raise self.fail(key, f"unknown field (allowed: {', '.join(sorted(allowed))})", value.line)

    def text(self, name: str, required: bool = True, default: str = "") -> str:
        item = self.map.get(name)
        if item is None or item.value is None:
            if required:
                raise self.fail(name, "missing required field")
            return default
        if not isinstance(item.value, (str, int)) or isinstance(item.value, bool):
            raise self.fail(name, f"expected text, got {type(item.value).__name__}", item.line)
        value = str(item.value).strip()
        if required and not value:
            raise self.fail(name, "must not be empty", item.line)
        return value

    def flag(self, name: str, default: bool) -> bool:
        item = self.map.get(name)
        if item is None:
            return default
        if not isinstance(item.value, bool):
            raise self.fail(name, "expected true or false", item.line)
        return item.value

    def integer(self, name: str, default: int) -> int:
        item = self.map.get(name)
        if item is None:
            return default
        if not isinstance(item.value, int) or isinstance(item.value, bool) or item.value < 0:
            raise self.fail(name, "expected a non-negative whole number", item.line)
        return item.value

    def words(self, name: str, required: bool = False) -> list[str]:
        item = self.map.get(name)
        if item is None or item.value is None:
            if required:
                raise self.fail(name, "missing required field")
            return []
        if not isinstance(item.value, list):
            raise self.fail(name, "expected a list of words", item.line)
        out = []
        for index, entry in enumerate(item.value):
            if not isinstance(entry.value, str) or not entry.value.strip():
                raise self.fail(f"{name}[{index}]", "expected a non-empty word", entry.line)
            out.append(entry.value.strip())
        return out

    def mapping(self, name: str) -> "Fields | None":
        item = self.map.get(name)
        if item is None or item.value is None:
            return None
        if not isinstance(item.value, dict):
            raise self.fail(name, "expected a mapping", item.line)
        return Fields(item, self.shown, f"{self.where}{name}.")
