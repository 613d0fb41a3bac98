"""How well the rules and the rules + model do (``wtm model eval``).

Cross-validation is grouped by source (a sandbox site's or a database site's listings, a block
of the development set), so near-copies of one listing never sit on both sides of a fold. The
sandbox's listings are trained on but left out of the reported figures: they come from the
sandbox's own phrase generator. The blind set is scored, never trained on.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

from monitor.matching import Matcher
from monitor.matching import model_stage
from monitor.matching.model import Model
from monitor.modeltraining import Evidence, Example, fit, read_evidence

FOLDS = 5
REPORTED_OUT = frozenset({"sandbox"})


@dataclass
class Figures:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    species_ok: int = 0

    def add(self, gold: bool, flagged: bool, species_right: bool) -> None:
        self.tp += gold and flagged
        self.fp += flagged and not gold
        self.fn += gold and not flagged
        self.tn += not gold and not flagged
        self.species_ok += gold and flagged and species_right

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def species_accuracy(self) -> float:
        return self.species_ok / self.tp if self.tp else 0.0

    def kind_line(self) -> str:
        """For one kind of listing: recall (illegal kinds) or the false-alarm rate (benign kinds)."""
        if self.tp + self.fn:
            return f"recall {self.tp}/{self.tp + self.fn} = {self.recall:.3f}, right species {self.species_ok}/{self.tp}"
        flagged = self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0
        return f"flagged {self.fp}/{self.fp + self.tn} = {flagged:.3f}"

    def line(self) -> str:
        return (f"P={self.precision:.3f} R={self.recall:.3f} F1={self.f1:.3f} species {self.species_accuracy:.3f} "
                f"(tp={self.tp} fp={self.fp} fn={self.fn} tn={self.tn})")


def with_model(model: Model | None, result: Any, text: str, level: str, order: Sequence[str]) -> tuple[bool, list[str]]:
    """The final verdict on one listing from its rules-only evidence (the evidence is not changed)."""
    if model is None:
        return result.flagged, list(result.species)
    decided = model_stage.apply(model, copy.copy(result), text, level, order)
    return decided.flagged, list(decided.species)


def cross_validated(examples: Sequence[Example], ev: Evidence, order: Sequence[str],
                    folds: int = FOLDS) -> list[tuple[bool, list[str]]]:
    """Each example's rules + model verdict from a model that did not see its group."""
    from sklearn.model_selection import GroupKFold

    groups = [e.group for e in examples]
    folds = min(folds, len(set(groups)))
    out: list[tuple[bool, list[str]]] = [(False, [])] * len(examples)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(examples, groups=groups):
        model = fit([examples[i] for i in train_idx], [ev.tokens[i] for i in train_idx])
        for i in test_idx:
            out[i] = with_model(model, ev.results[i], ev.texts[i], ev.tiers[i], order)
    return out


def tally(examples: Sequence[Example], verdicts: Sequence[tuple[bool, list[str]]],
          key: str = "source") -> dict[str, Figures]:
    """Figures per source (``key="source"``) or per kind of listing (``"kind"``: tricks, look-alikes),
    sandbox left out; ``"all"`` sums the reported sources."""
    table: dict[str, Figures] = defaultdict(Figures)
    for e, (flagged, species) in zip(examples, verdicts):
        if e.source in REPORTED_OUT:
            continue
        right = set(species) == set(e.species)
        names = [e.source] if key == "source" else [f"{'illegal' if e.illegal else 'benign'}/{k}" for k in e.kinds]
        for name in names + (["all"] if key == "source" else []):
            table[name].add(e.illegal, flagged, right)
    return dict(table)


def blind_figures(matcher: Matcher, model: Model | None, blind: Sequence[Example]) -> tuple[Figures, Figures]:
    """The held-out set's figures, rules alone and rules + ``model``."""
    ev = read_evidence(matcher, blind)
    order = matcher.lexicon.species
    before, after = Figures(), Figures()
    for i, e in enumerate(blind):
        for figures, m in ((before, None), (after, model)):
            flagged, species = with_model(m, ev.results[i], ev.texts[i], ev.tiers[i], order)
            figures.add(e.illegal, flagged, set(species) == set(e.species))
    return before, after


def miss_lines(config: Any) -> list[str]:
    """The miss rate per month (``monitor.storage.misses``): how many illegal ads the matcher let
    through, from analysts' verdicts on each month's random sample of unflagged listings."""
    from monitor.storage import Database
    from monitor.storage.misses import estimates

    db = Database.from_config(config)
    try:
        if db.sqlite_file is not None and not db.sqlite_file.exists():
            return ["  no database yet: nothing sampled"]
        db.check_current()
        with db.session() as s:
            found = estimates(s)
    finally:
        db.dispose()
    return [miss_line(e) for e in found] or ["  no unflagged listings yet: nothing sampled"]


def miss_line(e: Any) -> str:
    """One month's miss rate as ``wtm model eval`` prints it."""
    if not e.estimated:
        return f"  {e.month}: not yet estimated: no sample reviewed ({e.drawn} drawn of {e.unflagged} unflagged)"
    implied, low, high = e.missed_ads
    return (f"  {e.month}: miss rate {e.rate:.3f} (95 % interval {e.low:.3f}-{e.high:.3f}), "
            f"{e.missed} missed of {e.reviewed} sampled listings reviewed ({e.drawn} drawn); "
            f"estimated missed ads {implied} (95 % interval {low}-{high}) of {e.unflagged} unflagged")
