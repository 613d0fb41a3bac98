"""Where the model may act on the rules' verdict, and how its decision is written down.

The rules stay the explainable backbone. Their verdict falls in one tier:

- ``strong``: a species named outright (or a legal cover given away) with nothing that clears
  it. It stays flagged; the model's probability is shown, not used.
- ``weak``: flagged on weak evidence only (code words, homophones, pinyin). The model decides.
- ``weak_rejected``: weak evidence the rules set aside for want of context. The model decides.
- ``cleared``: every hit cleared by a rule (inside a compound, imitation, negation...), and
  ``none``: no hit at all. Flagged only above the model's high threshold, as "model only".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Collection, Sequence

if TYPE_CHECKING:
    from monitor.matching.matcher import MatchResult
    from monitor.matching.model import Model

STRONG_TRICKS = frozenset({"plain", "traditional", "separator", "legal_cover"})
WEAK_REASON = "weak evidence"  # how the verdict's rejection reasons for weak hits begin
DECIDED_BY_RULES, DECIDED_BY_MODEL, MODEL_ONLY = "rules", "model", "model only"


def tier(result: "MatchResult", strong_terms: Collection[tuple[str, str]]) -> str:
    """The rules' verdict in one word (see the module docstring)."""
    if result.flagged:
        for m in result.matches:
            if m.trick == "legal_cover" or (m.trick in STRONG_TRICKS and (m.term, m.species) in strong_terms):
                return "strong"
        return "weak"
    if any(reason.startswith(WEAK_REASON) for _, reason in result.rejected):
        return "weak_rejected"
    return "cleared" if result.rejected else "none"


def rule_tokens(result: "MatchResult", level: str) -> list[str]:
    """The rules' evidence as model features: the tier, kinds and tricks of what counted, and
    why the rest did not (one token per distinct value)."""
    out = {f"tier:{level}"}
    for m in result.matches:
        out.add(f"kind:{m.kind}")
        out.add(f"trick:{m.trick}")
    for m, reason in result.rejected:
        out.add(f"rejected:{m.kind}:{reason}")
    if len(result.species) > 1:
        out.add("species:several")
    return sorted(out)


def apply(model: "Model", result: "MatchResult", text: str, level: str, order: Sequence[str]) -> "MatchResult":
    """Let ``model`` decide where the tier allows it; record its probability and reasons."""
    score = model.score(text, rule_tokens(result, level))
    p = score.probability
    decided = DECIDED_BY_RULES
    if level == "weak" and p < model.threshold:
        reason = f"model: probability {p:.2f} below {model.threshold:.2f}"
        result.rejected = [(m, reason) for m in result.matches] + result.rejected
        result.matches, result.species, result.flagged = [], [], False
        result.score = round(p, 3)
        decided = DECIDED_BY_MODEL
    elif level == "weak":
        decided = DECIDED_BY_MODEL
    elif level == "weak_rejected" and p >= model.threshold:
        _flag_rejected(result, p, lambda reason: reason.startswith(WEAK_REASON), order)
        decided = DECIDED_BY_MODEL
    elif level in ("cleared", "none") and p >= model.model_only_threshold:
        if result.rejected:
            _flag_rejected(result, p, lambda reason: True, order)
        else:
            named = model.species_of(score)
            result.flagged, result.species, result.score = bool(named), [named] if named else [], round(p, 3)
        decided = MODEL_ONLY
    # the reasons are worked out for flags and for what the model decided (most listings are neither)
    shown = result.flagged or decided != DECIDED_BY_RULES
    result.model = {"probability": round(p, 3), "decided_by": decided, "version": model.version,
                    "features": model.explain(score) if shown else []}
    return result


def _flag_rejected(result: "MatchResult", p: float, counts: Callable[[str], bool], order: Sequence[str]) -> None:
    """Flag on rejected hits the model vouches for: they become the flag's evidence."""
    taken = [(m, r) for m, r in result.rejected if counts(r)]
    result.rejected = [(m, r) for m, r in result.rejected if not counts(r)]
    result.matches = sorted((m for m, _ in taken), key=lambda m: (m.field != "title", m.field, m.start))
    named = {m.species for m in result.matches}
    result.species = [sp for sp in order if sp in named] + sorted(named - set(order))
    result.flagged = bool(result.species)
    result.score = round(p, 3)
