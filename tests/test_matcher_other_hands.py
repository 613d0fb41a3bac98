"""Floors on listings by other hands, so a change that loses generality fails here.

Five authors who never saw the matcher, the lexicon or each other's listings wrote them from
the labelling guide and the domain notes alone (December 2026), each asked for the disguises and
look-alikes real sellers use today. ``listings_others.jsonl`` (980: four authors) was read, one
author at a time after scoring, and the matcher improved by general mechanisms for what it
missed; ``listings_heldout.jsonl`` (220: the fifth) was only ever scored, never read, and stays a
held-out estimate of how the matcher does on text nobody here has seen. Each author's first
score was that estimate in turn: F1 0.925, 0.893, 0.945, 0.929, 0.969. The floors sit a little
below today's figures:

    others   P 0.991 R 0.956 F1 0.973 (session start: 0.933 / 0.900 / 0.916)
    held out P 0.979 R 0.960 F1 0.969 (session start: 0.979 / 0.949 / 0.964)
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
SETS = [("listings_others.jsonl", 980, 0.98, 0.945), ("listings_heldout.jsonl", 220, 0.96, 0.94)]


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
