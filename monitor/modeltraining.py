"""Training and measuring the matcher's learned second stage (``wtm model train`` / ``eval``).

A jobs-layer module: it gathers labelled listings (the development set, a sample of the
sandbox's truth, every current analyst decision in the database), asks the matcher for what
its model reads (``Matcher.rules_evidence``), fits a scikit-learn logistic regression and writes
it as plain arrays (``monitor.matching.model``). The blind set is never read here.

L1 regularisation keeps the model to a few hundred n-grams, so scoring a listing costs one
Aho-Corasick pass over its text and a short sum (measured by benchmarks/matcher_speed.py).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from monitor.exceptions import InputFileError
from monitor.matching import Matcher
from monitor.matching import model_stage
from monitor.matching.model import Model, features, models_folder

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "tests" / "data" / "listings_dev.jsonl"  # present in a checkout, not in a wheel
SANDBOX_SAMPLE = 1500
DECISION_WEIGHT = 3.0  # an analyst's verdict on a real listing outweighs a written example
C = 0.5  # inverse L1 strength: chosen by grouped cross-validation on the development set
THRESHOLD = 0.5
MODEL_ONLY_THRESHOLD = 0.9
MIN_DF = 2


@dataclass
class Example:
    """One labelled listing. ``source`` is reported on; ``group`` keeps near-copies in one fold."""

    title: str
    description: str
    illegal: bool
    species: list[str]
    source: str
    group: str
    kinds: list[str] = field(default_factory=list)
    weight: float = 1.0

    @property
    def listing(self) -> dict[str, str]:
        return {"title": self.title, "description": self.description}


def read_labelled(path: Path, source: str) -> list[Example]:
    """A labelled JSON Lines file (tests/data/LABELING.md); a bad line is named by number."""
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = row["label"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputFileError(f"{path}:{number}: not a labelled listing ({exc})") from None
        if label not in ("illegal", "benign"):
            raise InputFileError(f"{path}:{number}: label must be illegal or benign, got {label!r}")
        rid = str(row.get("id", number))
        out.append(Example(row.get("title") or "", row.get("description") or "", label == "illegal",
                           list(row.get("species") or []), source, f"{source}:{int(_digest(rid), 16) % 10}",
                           list(row.get("tricks") or [])))
    return out


def sandbox_examples(n: int = SANDBOX_SAMPLE, seed: int = 20120101) -> list[Example]:
    """A sample of the simulated marketplaces' truth (every 4th month, duplicates removed),
    stratified so every illegal listing and look-alike is kept before plain listings."""
    from monitor.sandbox import Sandbox

    world = Sandbox(seed=seed)
    seen: set[tuple[str, str]] = set()
    rows = []
    for month in world.months[::4]:
        for r in world.truth(month):
            key = (r["title"], r["description"])
            if key not in seen:
                seen.add(key)
                rows.append(r)
    rng = random.Random(seed)
    rng.shuffle(rows)
    rows.sort(key=lambda r: not (r["illegal"] or r.get("kind") == "lookalike"))
    out = []
    for r in rows[:n]:
        kinds = list(r.get("tricks") or []) or (["lookalike"] if r.get("kind") == "lookalike" else ["plain"])
        out.append(Example(r["title"], r["description"], bool(r["illegal"]), list(r.get("species") or []),
                           "sandbox", f"sandbox:{r['site']}", kinds))
    return out


def decision_examples(rows: Iterable[dict[str, Any]]) -> list[Example]:
    """Analysts' decisions (``monitor.storage.review.decided_listings``) as examples."""
    out = []
    for r in rows:
        confirmed = r["decision"] == "confirmed"
        out.append(Example(r["title"], r["description"], confirmed, list(r["species"]) if confirmed else [],
                           "decisions", f"decisions:{r['site']}", ["confirmed" if confirmed else "rejected"],
                           DECISION_WEIGHT))
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def data_hash(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.title, e.description, e.illegal, e.species, e.weight], ensure_ascii=False).encode())
    return h.hexdigest()[:8]


# -- fitting -----------------------------------------------------------------------------------


@dataclass
class Evidence:
    """What the matcher's rules made of each example, computed once per training run."""

    results: list[Any]
    texts: list[str]
    tiers: list[str]
    tokens: list[list[str]]


def read_evidence(matcher: Matcher, examples: Sequence[Example]) -> Evidence:
    results, texts, tiers, tokens = [], [], [], []
    for e in examples:
        result, text, level = matcher.rules_evidence(e.listing)
        results.append(result)
        texts.append(text)
        tiers.append(level)
        tokens.append(features(text, model_stage.rule_tokens(result, level)))
    return Evidence(results, texts, tiers, tokens)


def fit(examples: Sequence[Example], tokens: Sequence[list[str]], meta: dict[str, Any] | None = None,
        c: float = C) -> Model:
    """Fit the illegal-offer model (and the species columns) on examples' feature tokens."""
    import sklearn
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    y = np.array([e.illegal for e in examples], dtype=int)
    if len(set(y)) < 2:
        raise InputFileError("training needs both illegal and benign listings")
    vectoriser = CountVectorizer(analyzer=lambda t: t, binary=True, min_df=MIN_DF)
    x = vectoriser.fit_transform(tokens)
    weights = np.array([e.weight for e in examples])
    clf = LogisticRegression(l1_ratio=1.0, C=c, solver="liblinear", max_iter=2000)
    clf.fit(x, y, sample_weight=weights)
    coef = clf.coef_[0]
    species = sorted({e.species[0] for e in examples if e.illegal and e.species})
    keep = np.flatnonzero(coef)
    columns = [coef]
    intercepts = [float(clf.intercept_[0])]
    if len(species) > 1:
        rows = [i for i, e in enumerate(examples) if e.illegal and e.species]
        sp_clf = OneVsRestClassifier(LogisticRegression(l1_ratio=1.0, C=c, solver="liblinear", max_iter=2000))
        sp_clf.fit(x[rows], [examples[i].species[0] for i in rows])
        if len(species) == 2:  # one binary estimator, for the second class
            one = sp_clf.estimators_[0]
            columns += [-one.coef_[0], one.coef_[0]]
            intercepts += [-float(one.intercept_[0]), float(one.intercept_[0])]
        else:
            order = [list(sp_clf.classes_).index(s) for s in species]
            columns += [sp_clf.estimators_[k].coef_[0] for k in order]
            intercepts += [float(sp_clf.estimators_[k].intercept_[0]) for k in order]
        keep = np.union1d(keep, np.flatnonzero(np.abs(np.vstack(columns[1:])).sum(axis=0)))
    vocab = vectoriser.get_feature_names_out()
    matrix = np.vstack(columns).T[keep]
    info = {"library": f"scikit-learn {sklearn.__version__}", "c": c, "threshold": THRESHOLD,
            "model_only_threshold": MODEL_ONLY_THRESHOLD, "examples": len(examples), **(meta or {})}
    return Model([str(v) for v in vocab[keep]], matrix, np.array(intercepts), species if len(species) > 1 else [], info)


def gather(db_rows: Iterable[dict[str, Any]] = (), dev_set: Path | None = DEV_SET,
           sandbox: int = SANDBOX_SAMPLE) -> list[Example]:
    """Every training example: development set (when present), sandbox sample, decisions."""
    examples: list[Example] = []
    if dev_set is not None and Path(dev_set).exists():
        examples += read_labelled(dev_set, "dev")
    if sandbox:
        examples += sandbox_examples(sandbox)
    examples += decision_examples(db_rows)
    return examples


def train(matcher: Matcher, examples: Sequence[Example], data_dir: Path, now: datetime | None = None) -> tuple[Model, Path]:
    """Fit on ``examples`` and save the model under ``data_dir``; returns it and its path."""
    when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    digest = data_hash(examples)
    version = f"{when:%Y%m%d%H%M%S}-{digest}"
    ev = read_evidence(matcher, examples)
    counts = {src: sum(e.source == src for e in examples) for src in sorted({e.source for e in examples})}
    model = fit(examples, ev.tokens, {"version": version, "data_hash": digest, "trained_at": when.isoformat(),
                                      "lexicon": matcher.lexicon.version, "sources": counts})
    path = model.save(models_folder(data_dir) / f"model-{version}.npz")
    return model, path


def decisions(config: Any) -> list[dict[str, Any]]:
    """Every current analyst decision in the configured database (none before its first crawl)."""
    from monitor.storage import Database
    from monitor.storage.review import decided_listings

    db = Database.from_config(config)
    try:
        if db.sqlite_file is not None and not db.sqlite_file.exists():
            return []
        db.check_current()
        return decided_listings(db)
    finally:
        db.dispose()


def train_configured(config: Any, matcher: Matcher, dev_set: Path | None = DEV_SET,
                     sandbox: int = SANDBOX_SAMPLE) -> tuple[Model, Path, list[Example]]:
    """``wtm model train``: fit on everything labelled and save into the data folder."""
    examples = gather(decisions(config), dev_set, sandbox)
    model, path = train(matcher, examples, config.data_path)
    return model, path, examples
