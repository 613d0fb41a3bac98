"""The species groups, read from the lexicon folder's ``species.yaml``: the one place they are listed.

Each group has its key (the name the lexicon, the database and the exports use), its place in the
order the matcher, the reports and the charts list groups in (the file's order), its names in
Chinese and English, its chart colour and a short legal basis in both languages. The lexicon
requires one species file per group; the reports name and colour groups from here. No Scrapy,
no SQLAlchemy: the reports may read it without loading the matcher.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from monitor.exceptions import KeywordFileError
from monitor.matching.yamlfields import Fields, read_yaml

SPECIES_FILE = "species.yaml"
LANGUAGES = ("zh", "en")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_KEY_LENGTH = 30  # the database's species columns (listing_species.species, matches.species)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_FIELDS = {"key", "zh", "en", "colour", "legal_basis"}


@dataclass(frozen=True)
class Species:
    """One species group as ``species.yaml`` declares it; ``order`` is its place in the file (0 first)."""

    key: str
    zh: str
    en: str
    colour: str
    legal_basis_zh: str
    legal_basis_en: str
    order: int

    def name(self, lang: str) -> str:
        """The display name in ``lang`` (zh or en; anything else reads as English)."""
        return self.zh if lang == "zh" else self.en

    def legal_basis(self, lang: str) -> str:
        return self.legal_basis_zh if lang == "zh" else self.legal_basis_en


def shipped_folder() -> Path:
    """The lexicon folder installed with the package (``monitor.keywords``)."""
    return Path(str(resources.files("monitor.keywords")))


def load_species(folder: Path | str | None = None) -> tuple[Species, ...]:
    """Read and validate ``species.yaml`` of a lexicon folder (default: the shipped one).

    Every mistake raises ``KeywordFileError`` naming file, line and field, e.g.
    ``keywords/species.yaml:14: species[1].colour: expected a hex colour such as "#0072B2", got 'orange'``.
    """
    base = shipped_folder() if folder is None else Path(folder)
    path = base / SPECIES_FILE
    shown = f"{base}/{SPECIES_FILE}"
    if not path.is_file():
        raise KeywordFileError(f"{shown}: missing: the lexicon folder must declare its species groups "
                               f"in {SPECIES_FILE} (see the shipped keywords/README.md)")
    root = Fields(read_yaml(path, shown), shown)
    root.check_keys({"species"})
    listed = root.map.get("species")
    if listed is None or not isinstance(listed.value, list) or not listed.value:
        raise root.fail("species", "expected a non-empty list of species groups", listed.line if listed else None)
    out: list[Species] = []
    keys: dict[str, int] = {}
    colours: dict[str, str] = {}
    for index, node in enumerate(listed.value):
        where = f"species[{index}]"
        if not isinstance(node.value, dict):
            raise KeywordFileError(f"{shown}:{node.line}: {where}: expected a mapping with key, zh, en, colour "
                                   f"and legal_basis")
        f = Fields(node, shown, f"{where}.")
        f.check_keys(_FIELDS)
        key = f.text("key")
        if not _KEY.match(key) or len(key) > MAX_KEY_LENGTH:
            raise f.fail("key", f"expected at most {MAX_KEY_LENGTH} lower-case letters, digits and _, "
                                f"starting with a letter, got {key!r}", f.map["key"].line)
        if key in keys:
            raise f.fail("key", f"duplicate key {key!r} (already species[{keys[key]}])", f.map["key"].line)
        keys[key] = index
        colour = _colour(f)
        if colour.lower() in colours:
            raise f.fail("colour", f"{colour} is already the colour of {colours[colour.lower()]}; "
                                   "each group needs its own so the charts tell them apart", f.map["colour"].line)
        colours[colour.lower()] = key
        basis = f.mapping("legal_basis")
        if basis is None:
            raise f.fail("legal_basis", "missing required field (a mapping with zh and en)")
        basis.check_keys(set(LANGUAGES))
        out.append(Species(key=key, zh=f.text("zh"), en=f.text("en"), colour=colour,
                           legal_basis_zh=basis.text("zh"), legal_basis_en=basis.text("en"), order=index))
    return tuple(out)


def _colour(f: Fields) -> str:
    item = f.map.get("colour")
    if item is None or item.value is None:
        # an unquoted #0072B2 is a YAML comment, so the value reads as empty
        raise f.fail("colour", 'missing required field (write it quoted: "#0072B2")',
                     item.line if item is not None else None)
    value = f.text("colour")
    if not _COLOUR.match(value):
        raise f.fail("colour", f'expected a hex colour such as "#0072B2", got {value!r}', item.line)
    return value


def species_table(folder: Path | str | None = None) -> tuple[Species, ...]:
    """``load_species`` remembered per folder until its ``species.yaml`` changes (for the reports).

    ``folder`` None or empty is the shipped lexicon; a configured ``keywords_dir`` may start with ``~``.
    """
    name = str(folder) if folder else ""
    base = _base(name, "" if not name or os.path.isabs(name) or name.startswith("~") else os.getcwd())
    try:
        stat = os.stat(os.path.join(base, SPECIES_FILE))
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)  # load_species says what is wrong
    return _cached(base, stamp)


@lru_cache(maxsize=16)
def _base(folder: str, cwd: str) -> str:
    """The folder resolved once (per working folder when relative): a report asks for the species
    hundreds of times."""
    return str((shipped_folder() if not folder else Path(folder).expanduser()).resolve())


@lru_cache(maxsize=16)
def _cached(folder: str, stamp: tuple[int, int]) -> tuple[Species, ...]:
    return load_species(folder)
