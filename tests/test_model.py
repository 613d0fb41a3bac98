"""The learned second stage: where it may act, how it is stored, what the CLI shows of it,
and the candidate code words `wtm keywords suggest` lists."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitor import codewords
from monitor.cli import cli
from monitor.exceptions import InputFileError
from monitor.matching import Lexicon, Matcher
from monitor.matching.model import SHIPPED, Model, load_model, newest_model_path
from monitor.modeltraining import Example, fit, read_evidence


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.fixture(scope="module")
def rules(lexicon: Lexicon) -> Matcher:
    return Matcher(lexicon, model=None)


def toy_model(rules: Matcher, bias: float) -> Model:
    """A model trained on a handful of listings, then pushed to always say yes (or no)."""
    rows = [("象牙手镯", "老料", True, ["ivory"]), ("犀角杯", "旧藏", True, ["rhino_horn"]),
            ("象牙白乳胶漆", "环保", False, []), ("豹纹连衣裙", "夏季", False, [])] * 2
    examples = [Example(t, d, y, s, "dev", f"dev:{i}") for i, (t, d, y, s) in enumerate(rows)]
    model = fit(examples, read_evidence(rules, examples).tokens, {"version": "test"})
    intercept = model.intercept.copy()
    intercept[0] = bias  # the intercept alone decides: the policy, not the weights, is under test
    weights = model.weights.copy()
    weights[:, 0] = 0.0
    return Model(model.vocabulary, weights, intercept, model.species, model.meta)


def test_shipped_model_loads_without_pickle_and_names_its_provenance() -> None:
    assert SHIPPED.is_file()
    with zipfile.ZipFile(SHIPPED) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    with np.load(SHIPPED, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
    assert meta["library"].startswith("scikit-learn ") and meta["data_hash"] and meta["trained_at"]
    assert "blind" not in meta["sources"]
    model = Model.load(SHIPPED)
    assert model.version == meta["version"] and len(model.vocabulary) == model.weights.shape[0]


def test_newest_trained_model_wins_over_the_shipped_one(tmp_path: Path, rules: Matcher) -> None:
    assert newest_model_path(tmp_path) == SHIPPED
    older = toy_model(rules, 0.0)
    older.meta["version"] = "old"
    older.save(tmp_path / "models" / "model-20250101000000-aaaa.npz")
    newer = toy_model(rules, 0.0)
    newer.meta["version"] = "new"
    newer.save(tmp_path / "models" / "model-20250201000000-bbbb.npz")
    assert load_model(tmp_path).version == "new"
    matcher = Matcher(rules.lexicon, model_dir=tmp_path)
    assert matcher.version == f"{rules.lexicon.version}+new" and len(matcher.version) <= 64
    bad = tmp_path / "models" / "model-20250301000000-cccc.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputFileError, match="model-20250301000000-cccc.npz"):
        load_model(tmp_path)


def test_strong_rule_hits_stay_flagged_whatever_the_model_says(rules: Matcher) -> None:
    never = Matcher(rules.lexicon, model=toy_model(rules, -20.0))
    result = never.match({"title": "象牙手镯", "description": "老料 圈口56"})
    assert result.flagged and result.model["decided_by"] == "rules" and result.model["probability"] < 0.01


def test_weak_evidence_is_the_models_to_decide(rules: Matcher) -> None:
    listing = {"title": "白塑料手串 网格纹", "description": "老料"}
    assert rules.match(listing).flagged
    cleared = Matcher(rules.lexicon, model=toy_model(rules, -20.0)).match(listing)
    assert not cleared.flagged and cleared.model["decided_by"] == "model"
    assert [m.term for m, _ in cleared.rejected] == ["白塑料"]  # the rule evidence stays visible
    weak_alone = {"title": "白塑料 老货", "description": "喜欢的联系"}
    assert not rules.match(weak_alone).flagged
    flagged = Matcher(rules.lexicon, model=toy_model(rules, 20.0)).match(weak_alone)
    assert flagged.flagged and flagged.species == ["ivory"] and [m.term for m in flagged.matches] == ["白塑料"]


def test_no_rule_evidence_flags_only_above_the_high_threshold_as_model_only(rules: Matcher) -> None:
    listing = {"title": "二手手机", "description": "九成新 同城面交"}
    model = toy_model(rules, 1.5)  # p = 0.82: above the weak threshold, below the model-only one
    assert not Matcher(rules.lexicon, model=model).match(listing).flagged
    sure = Matcher(rules.lexicon, model=toy_model(rules, 20.0)).match(listing)
    assert sure.flagged and sure.model["decided_by"] == "model only" and sure.species
    assert sure.matches == []


def test_keywords_test_prints_every_verdict_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "keywords", "test", "白塑料手串 网格纹",
                                      "--description", "老料"])
    assert result.exit_code == 0, result.output
    assert "model:" in result.output and "probability:" in result.output and "features:" in result.output
    assert "matcher version: " in result.output and "+" in result.output.split("matcher version: ")[1]


def test_suggest_finds_a_new_code_word_of_confirmed_listings(rules: Matcher) -> None:
    confirmed = [("月光料手串", "网纹清晰"), ("月光料 吊坠", "老货"), ("月光料平安扣", "有裂"), ("象牙手镯", "老料")]
    benign = [("月饼礼盒", "中秋"), ("光伏板", "全新"), ("手串 菩提", "包浆")]
    found = codewords.suggest(rules, confirmed, benign, min_count=3)
    assert found and found[0].ngram == "月光料" and found[0].confirmed == 3 and found[0].benign == 0
    assert all("象牙" not in s.ngram and "手串" not in s.ngram for s in found)  # the lexicon has those


def test_model_eval_prints_cross_validated_and_blind_figures(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "model", "eval", "--sandbox", "200"])
    assert result.exit_code == 0, result.output
    assert "grouped by source" in result.output and "dev " in result.output
    assert "illegal/code_word" in result.output and "benign/lookalike" in result.output
    assert not any(line.strip().startswith("sandbox") for line in result.output.splitlines())  # trained on only
    blind = result.output.split("blind set")[1]
    assert "rules         P=" in blind and "rules + model P=" in blind


def test_crawl_stores_the_composite_matcher_version(rules: Matcher) -> None:
    from monitor.crawling.pipelines import MatchPipeline
    from monitor.items import ListingItem

    matcher = Matcher(rules.lexicon)  # the shipped model
    item = ListingItem(site="alpha", external_id="1", url="http://127.0.0.1/alpha/1.html",
                       title="象牙手镯", description="老料 圈口56")
    verdict = MatchPipeline(rules.lexicon, matcher).process_item(item).match
    assert verdict["lexicon_version"] == f"{rules.lexicon.version}+{matcher.model.version}"
    assert verdict["flagged"] and verdict["model"]["features"]
