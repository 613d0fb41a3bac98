"""The one-pass scanner gives what the four pyahocorasick automata give, in their order.

The verdict reads hits, compounds and context words in the order they were found (the first
product type, the first quantity...), so the scanner must not reorder them: checked against
the automata themselves on the development set, disguised and dense text, and half a
surrogate pair (which the Rust library cannot encode and the automata read instead).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.matching import Lexicon, Matcher

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load(), model=None)


def texts(matcher: Matcher) -> list[str]:
    rows = [json.loads(line) for line in (DATA / "listings_dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    raw = [row[f] for row in rows for f in ("title", "description")]
    raw += ["象 牙 手镯 50克 犀角杯 不是犀角 鹤顶红 象牙白 XN角 xiang牙 带帽 玳瑁 虎骨酒 🐘🦷 求购 一副" * 4,
            "白塑料手串\ud800网格纹 象牙", "", "象"]
    return [matcher.normaliser.with_offsets(t).text for t in raw]


def test_scan_matches_the_automata_in_their_order(matcher: Matcher) -> None:
    scanner = matcher._scanner
    checked = 0
    for s in texts(matcher):
        assert scanner.scan(s) == scanner._scan_slowly(s), s
        checked += bool(scanner.scan(s)[0])
    assert checked > 100


def test_spelling_count_matches_the_automata(matcher: Matcher) -> None:
    scanner = matcher._scanner
    for s in texts(matcher):
        slow = sum(1 for _ in matcher._terms.iter(s)) + sum(1 for _ in matcher._exclusions.iter(s)) + \
            sum(1 for _ in matcher._reversed.iter(s[::-1]))
        assert scanner.spelling_count(s) == slow, s


def test_a_lone_surrogate_is_matched_around(matcher: Matcher) -> None:
    result = matcher.match({"title": "象牙手镯\ud800", "description": "老料 \udfff 50克"})
    assert result.flagged and result.species == ["ivory"]
