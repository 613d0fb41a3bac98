"""The lexicon files: shape, scale, and errors that name file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.exceptions import KeywordFileError
from monitor.matching import Lexicon, Matcher
from monitor.matching.species import load_species

SPECIES_KEYS = [g.key for g in load_species()]


@pytest.fixture()
def lexicon_copy(tmp_path: Path) -> Path:
    shipped = Path(Lexicon.load().source)
    target = tmp_path / "lexicon"
    target.mkdir()
    for path in shipped.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def test_shipped_lexicon_has_every_species_and_professional_scale() -> None:
    lexicon = Lexicon.load()
    assert lexicon.species == SPECIES_KEYS
    assert SPECIES_KEYS == ["ivory", "rhino_horn", "hawksbill", "hornbill", "tiger", "saiga", "pangolin", "leopard"]
    keywords = lexicon.search_keywords()
    assert len(keywords) >= 112
    assert len(lexicon.search_keywords("ivory")) >= 35
    assert all(k.species in SPECIES_KEYS and k.term for k in keywords)
    for key in SPECIES_KEYS:
        assert lexicon.search_keywords(key), key


def test_every_code_word_has_a_source() -> None:
    for term in Lexicon.load().terms():
        if term.kind == "code_word":
            assert term.source, term


def test_version_is_a_content_hash(lexicon_copy: Path) -> None:
    before = Lexicon.load(lexicon_copy).version
    assert Lexicon.load(lexicon_copy).version == before
    path = lexicon_copy / "leopard.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert Lexicon.load(lexicon_copy).version != before


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_bad_kind_names_file_line_and_field(lexicon_copy: Path) -> None:
    path = lexicon_copy / "tiger.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, line in enumerate(lines, 1) if "{term: 虎骨, kind: name}" in line)
    _replace(path, "{term: 虎骨, kind: name}", "{term: 虎骨, kind: bone}")
    with pytest.raises(KeywordFileError) as err:
        Lexicon.load(lexicon_copy)
    message = str(err.value)
    assert "tiger.yaml" in message and f":{line_no}:" in message and ".kind" in message and "bone" in message


def test_code_word_without_source_is_rejected(lexicon_copy: Path) -> None:
    path = lexicon_copy / "pangolin.yaml"
    _replace(path, '    source: "TCM alias of pangolin scale, domain.md S22"\n', "", )
    with pytest.raises(KeywordFileError, match=r"pangolin\.yaml:\d+: terms\[\d+\]\.source"):
        Lexicon.load(lexicon_copy)


def test_broken_yaml_names_the_line(lexicon_copy: Path) -> None:
    (lexicon_copy / "saiga.yaml").write_text("species: saiga\nterms: [\n  {term: 羚羊角\n", encoding="utf-8")
    with pytest.raises(KeywordFileError, match=r"saiga\.yaml:\d+: not valid YAML"):
        Lexicon.load(lexicon_copy)


def test_unknown_field_and_species_are_rejected(lexicon_copy: Path) -> None:
    _replace(lexicon_copy / "hornbill.yaml", "search_keywords:", "search_keywordz:")
    with pytest.raises(KeywordFileError, match=r"hornbill\.yaml:\d+: search_keywordz: unknown field"):
        Lexicon.load(lexicon_copy)


def test_unknown_species_key(lexicon_copy: Path) -> None:
    _replace(lexicon_copy / "leopard.yaml", "species: leopard", "species: lion")
    with pytest.raises(KeywordFileError, match=r"leopard\.yaml:\d+: species: unknown species key 'lion'.*species\.yaml"):
        Lexicon.load(lexicon_copy)


def test_species_file_is_in_the_version_and_not_a_species_lexicon(lexicon_copy: Path) -> None:
    before = Lexicon.load(lexicon_copy)
    assert "species" not in before.species
    path = lexicon_copy / "species.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("en: Tiger\n", "en: Tiger (big cat)\n"), encoding="utf-8")
    after = Lexicon.load(lexicon_copy)
    assert after.version != before.version and after.group("tiger").en == "Tiger (big cat)"


def test_species_order_comes_from_the_file(lexicon_copy: Path, tmp_path: Path) -> None:
    path = lexicon_copy / "species.yaml"
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n  - key: ")
    ivory, rhino = blocks[1], blocks[2]
    path.write_text(text.replace(ivory, "@@").replace(rhino, ivory.rstrip("\n") + "\n\n").replace("@@", rhino),
                    encoding="utf-8")
    lexicon = Lexicon.load(lexicon_copy)
    assert lexicon.species[:3] == ["rhino_horn", "ivory", "hawksbill"]
    result = Matcher(lexicon, cache_dir=tmp_path / "cache").match({"title": "回收 象牙 犀角 老件"})
    assert result.species == ["rhino_horn", "ivory"]


def test_missing_species_file(lexicon_copy: Path) -> None:
    (lexicon_copy / "pangolin.yaml").unlink()
    with pytest.raises(KeywordFileError, match="no lexicon file for species: pangolin"):
        Lexicon.load(lexicon_copy)


def test_bad_shared_file_names_field(lexicon_copy: Path) -> None:
    _replace(lexicon_copy / "context.yaml", "  window: 6", "  window: wide")
    with pytest.raises(KeywordFileError, match=r"context\.yaml:\d+: near_innocent\.window"):
        Lexicon.load(lexicon_copy)


def test_duplicate_term_is_rejected(lexicon_copy: Path) -> None:
    _replace(lexicon_copy / "leopard.yaml", "  - {term: 豹骨, kind: name}\n",
             "  - {term: 豹骨, kind: name}\n  - {term: 豹骨, kind: product}\n")
    with pytest.raises(KeywordFileError, match=r"leopard\.yaml:\d+: terms\[\d+\]\.term: duplicate"):
        Lexicon.load(lexicon_copy)


def test_edited_lexicon_changes_matching(lexicon_copy: Path, tmp_path: Path) -> None:
    listing = {"title": "麒麟竭 原料", "description": "50克"}
    assert not Matcher(Lexicon.load(lexicon_copy), cache_dir=tmp_path / "cache").match(listing).flagged
    _replace(lexicon_copy / "pangolin.yaml", "  - {term: 穿山甲, kind: name}\n",
             "  - {term: 穿山甲, kind: name}\n  - {term: 麒麟竭, kind: product}\n")
    edited = Matcher(Lexicon.load(lexicon_copy), cache_dir=tmp_path / "cache")
    assert edited.match(listing).species == ["pangolin"]


def test_matcher_caches_in_the_given_folder_not_shared_tmp(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    matcher = Matcher(Lexicon.load(), cache_dir=cache)
    names = sorted(p.name for p in cache.iterdir())
    assert any(n.startswith("jieba-") and n.endswith(".cache") for n in names), names
    assert any(n.startswith("patterns-") for n in names), names
    assert matcher.tokens("象牙塔") == ["象牙塔"]
    again = Matcher(Lexicon.load(), cache_dir=cache)  # from the cache
    assert again.match({"title": "象 牙 手镯"}).species == ["ivory"]


def test_damaged_pattern_cache_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Matcher(Lexicon.load(), cache_dir=cache)
    for path in cache.glob("patterns-*"):
        path.write_bytes(b"not a pickle")
    assert Matcher(Lexicon.load(), cache_dir=cache).match({"title": "犀角杯"}).species == ["rhino_horn"]


def test_suspect_cover_must_be_a_cover_term(lexicon_copy: Path) -> None:
    _replace(lexicon_copy / "ivory.yaml", "  suspect:\n    - 猛犸象牙\n", "  suspect:\n    - 猛犸象牙\n    - 狗牙\n")
    with pytest.raises(KeywordFileError, match=r"ivory\.yaml:\d+: covers\.suspect\[\d+\]: '狗牙' is not one of covers\.terms"):
        Lexicon.load(lexicon_copy)
