"""Regression floor on the labelled development corpus (tests/data/listings_dev.jsonl)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from monitor.matching import Lexicon, Matcher

DATA = Path(__file__).parent / "data" / "listings_dev.jsonl"
BENCH = Path(__file__).parent.parent / "benchmarks" / "matcher_quality.py"


def _evaluate():
    spec = importlib.util.spec_from_file_location("matcher_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate


@pytest.fixture(scope="module")
def scores() -> dict:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    matcher = Matcher(Lexicon.load())
    predictions = {}
    for row in rows:
        result = matcher.match({"title": row["title"], "description": row["description"]})
        predictions[row["id"]] = (result.flagged, result.species)
    return _evaluate()(rows, predictions)


def test_precision_and_recall_floor(scores: dict) -> None:
    assert scores["precision"] >= 0.95, scores
    assert scores["recall"] >= 0.95, scores


def test_species_accuracy_floor(scores: dict) -> None:
    assert scores["species_accuracy"] >= 0.95, scores


def test_every_trick_mostly_caught_and_lookalikes_mostly_cleared(scores: dict) -> None:
    for (label, trick), (right, total) in scores["by_trick"].items():
        assert right / total >= 0.85, (label, trick, right, total)
