"""Floors on listings by other hands, so a change that loses generality fails here.

Three authors who never saw the matcher, the lexicon or each other's listings wrote them from
the labelling guide and the domain notes alone (December 2026), each asked for the disguises and
look-alikes real sellers use today. ``listings_others.jsonl`` (540: two authors) was then read
and the matcher improved by general mechanisms for what it missed; ``listings_heldout.jsonl``
(220: the third) was only ever scored, never read, and stays a held-out estimate of how the
matcher does on text nobody here has seen. The floors sit a little below today's figures:

    others   P 0.996 R 0.944 F1 0.969 (before: 0.936 / 0.887 / 0.911)
    held out P 0.950 R 0.941 F1 0.945 (before: 0.931 / 0.931 / 0.931)
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from monitor.matching import Lexicon, Matcher

DATA = Path(__file__).parent / "data"
BENCH = Path(__file__).parent.parent / "benchmarks" / "matcher_quality.py"
# file, listings, precision floor, recall floor
SETS = [("listings_others.jsonl", 540, 0.98, 0.93), ("listings_heldout.jsonl", 220, 0.93, 0.92)]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(Lexicon.load())


@pytest.fixture(scope="module")
def evaluate():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("matcher_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate


@pytest.mark.parametrize(("name", "count", "precision", "recall"), SETS, ids=[s[0] for s in SETS])
def test_floor_on_listings_by_other_hands(matcher: Matcher, evaluate, name: str, count: int,  # type: ignore[no-untyped-def]
                                          precision: float, recall: float) -> None:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == count and len({r["id"] for r in rows}) == count
    predictions = {}
    for row in rows:
        result = matcher.match({"title": row["title"], "description": row["description"]})
        predictions[row["id"]] = (result.flagged, result.species)
    scores = evaluate(rows, predictions)
    assert scores["precision"] >= precision and scores["recall"] >= recall, scores
    assert scores["species_accuracy"] >= 0.97, scores
