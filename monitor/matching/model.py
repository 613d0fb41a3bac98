"""The learned second stage: a linear model over the matcher's own normalised text and the
rules' evidence, stored as plain arrays and scored with the standard library.

Training (``monitor.modeltraining``, scikit-learn) and scoring (here) share ``features``, so a
listing reads the same at both ends. At run time the n-gram vocabulary is one Aho-Corasick
automaton: a listing's present n-grams come out of one C pass over its text, and its logit is
the sum of their weights. A model is an ``.npz`` of arrays (loaded with ``allow_pickle=False``)
plus a JSON header naming the library version, the training data's hash and the date.
"""

from __future__ import annotations

import json
import math
import re
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import ahocorasick_rs
import numpy as np

from monitor.exceptions import InputFileError

FORMAT = 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NGRAM_MIN, NGRAM_MAX = 2, 3  # single characters (digits, 的, 。) cost three times the lookups for little
RULE_PREFIX = "\x00"  # rule-evidence features; a normalised text never holds NUL (ngrams drops it)
SHIPPED = Path(__file__).with_name("data") / "default-model.npz"
MODEL_GLOB = "model-*.npz"
EXPLAIN_TOP = 5


def ngrams(text: str) -> list[str]:
    """The character 2- and 3-grams of a normalised text (repeats kept; the model reads presence)."""
    text = text.replace(RULE_PREFIX, "")
    n = len(text)
    return [text[i:i + k] for k in range(NGRAM_MIN, NGRAM_MAX + 1) for i in range(n - k + 1)]


def features(text: str, rules: Iterable[str]) -> list[str]:
    """Every feature of one listing: its n-grams and its rule-evidence tokens."""
    return ngrams(text) + [RULE_PREFIX + r for r in rules]


def feature_label(name: str) -> str:
    """A feature as an analyst reads it: ``rule:tier:weak`` or the n-gram in quotes."""
    return "rule:" + name[1:] if name.startswith(RULE_PREFIX) else repr(name)


class Score(NamedTuple):  # a tuple: made once per listing, quicker than a frozen dataclass
    probability: float
    logit: float
    present: tuple[int, ...]  # vocabulary indexes of the features found


class Model:
    """Weights over a vocabulary: column 0 is the illegal-offer logit, columns 1.. one per species
    (read only to name the species of a listing the rules found nothing in)."""

    def __init__(self, vocabulary: list[str], weights: np.ndarray, intercept: np.ndarray,
                 species: list[str], meta: dict[str, Any]) -> None:
        if weights.shape != (len(vocabulary), 1 + len(species)) or intercept.shape != (1 + len(species),):
            raise ValueError(f"model arrays disagree: {weights.shape} weights, {len(vocabulary)} features, "
                             f"{len(species)} species, {intercept.shape} intercepts")
        self.vocabulary = vocabulary
        self.weights = weights
        self.intercept = intercept
        self.species = species
        self.meta = meta
        self.version: str = meta.get("version", "unversioned")
        self.threshold: float = float(meta.get("threshold", 0.5))
        self.model_only_threshold: float = float(meta.get("model_only_threshold", 0.9))
        self._w0: list[float] = weights[:, 0].tolist()  # Python floats: summing a few is quicker than numpy
        # what ``explain`` sorts by and shows, per feature, worked out once rather than per listing
        self._rank = [-abs(x) for x in self._w0]
        self._shown = [(feature_label(name), round(x, 3)) for name, x in zip(vocabulary, self._w0)]
        self._b0 = float(intercept[0])
        self._rules: dict[str, int] = {}
        grams: list[str] = []
        self._gram_index: list[int] = []  # vocabulary index of each n-gram of the automaton
        for i, name in enumerate(vocabulary):
            if name.startswith(RULE_PREFIX):
                self._rules[name[1:]] = i
            elif name:
                grams.append(name)
                self._gram_index.append(i)
        self._grams = ahocorasick_rs.AhoCorasick(grams or [RULE_PREFIX], matchkind=ahocorasick_rs.MatchKind.Standard,
                                                 implementation=ahocorasick_rs.Implementation.DFA)
        if not grams:
            self._gram_index.append(-1)
        # Can a listing without a single rule hit reach the model-only threshold at all? Only if
        # every positive n-gram at once would lift it there; if not, such listings need no scoring.
        positive = sum(x for name, x in zip(vocabulary, self._w0) if x > 0 and not name.startswith(RULE_PREFIX))
        unmatched = self._b0 + positive + (self._w0[self._rules["tier:none"]] if "tier:none" in self._rules else 0.0)
        self.can_flag_unmatched = _sigmoid(unmatched) >= self.model_only_threshold

    # -- scoring ------------------------------------------------------------------------------

    def score(self, text: str, rules: Iterable[str]) -> Score:
        """The probability that a listing offers a protected species' product."""
        try:
            found = self._grams.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:  # half a surrogate pair: no n-gram holds one, so none is lost
            found = self._grams.find_matches_as_indexes(_LONE_SURROGATE.sub("\0", text), overlapping=True)
        present = set(map(self._gram_index.__getitem__, map(_first, found)))
        rule_index = self._rules
        present.update(rule_index[r] for r in rules if r in rule_index)
        present.discard(-1)
        z = self._b0 + sum(map(self._w0.__getitem__, present))
        return Score(_sigmoid(z), z, tuple(present))

    def explain(self, score: Score, top: int = EXPLAIN_TOP) -> list[tuple[str, float]]:
        """The features that moved this score most, strongest first, with their weights."""
        w, shown = self._w0, self._shown
        ranked = sorted((i for i in score.present if w[i]), key=self._rank.__getitem__)[:top]
        return [shown[i] for i in ranked]

    def species_of(self, score: Score) -> str | None:
        """The likeliest species of a listing the rules named none in (None when the model has none)."""
        if not self.species:
            return None
        idx = np.fromiter(score.present, dtype=np.int64, count=len(score.present))
        logits = self.intercept[1:] + self.weights[idx, 1:].sum(axis=0)
        return self.species[int(np.argmax(logits))]

    # -- files --------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Write the model as plain arrays (no pickle), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp, vocabulary=np.array(self.vocabulary, dtype=str), weights=self.weights.astype(np.float32),
            intercept=self.intercept.astype(np.float64), species=np.array(self.species, dtype=str),
            meta=np.array(json.dumps({"format": FORMAT, **self.meta}, ensure_ascii=False)),
        )
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> "Model":
        """Read a model file; a file that is not one is named with what is wrong."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise InputFileError(f"{path}: model format {meta.get('format')!r}, this version reads {FORMAT}")
                return cls([str(v) for v in data["vocabulary"]], np.asarray(data["weights"], dtype=np.float64),
                           np.asarray(data["intercept"], dtype=np.float64), [str(s) for s in data["species"]], meta)
        except (OSError, KeyError, ValueError) as exc:
            raise InputFileError(f"{path}: not a wtm model file ({exc})") from None


_first = itemgetter(0)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def models_folder(data_dir: Path) -> Path:
    """Where ``wtm model train`` writes its models under a data folder."""
    return Path(data_dir) / "models"


def newest_model_path(data_dir: Path | None) -> Path:
    """The newest trained model in ``data_dir``'s models folder, else the shipped default.

    Model files are named ``model-<UTC timestamp>-<data hash>.npz``, so the newest sorts last."""
    if data_dir is not None:
        found = sorted(models_folder(data_dir).glob(MODEL_GLOB))
        if found:
            return found[-1]
    return SHIPPED


def load_model(data_dir: Path | None = None) -> Model | None:
    """The model the matcher uses: the newest trained in ``data_dir``, else the shipped one (None if
    neither exists, e.g. a checkout before its first ``wtm model train``)."""
    path = newest_model_path(data_dir)
    return Model.load(path) if path.exists() else None
