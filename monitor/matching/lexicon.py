"""The lexicon: species terms, search keywords, exclusions and context words, read from YAML.

The data lives in ``keywords/`` (installed as ``monitor.keywords``) so analysts can change it
without touching code. Files are validated at load; every error names file, line and field.
The species groups themselves (keys, order, names, colours, legal basis) are listed once, in the
folder's ``species.yaml`` (``monitor.matching.species``); each needs its own lexicon file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

from monitor.exceptions import KeywordFileError
from monitor.matching.species import SPECIES_FILE, Species, load_species
from monitor.matching.yamlfields import Fields, Node, read_yaml

TERM_KINDS = ("name", "product", "code_word")
TRICKS = ("plain", "code_word", "pinyin_mix", "separator", "homophone", "traditional", "legal_cover")
# Files of a lexicon folder that are not one species group's lexicon file.
SHARED_FILES = ("context.yaml", "regional.yaml", "homophones.yaml", SPECIES_FILE)


@dataclass(frozen=True)
class Term:
    """One lexicon entry. ``strong`` terms flag on their own; weak ones need context."""

    term: str
    species: str
    kind: str
    strong: bool
    source: str = ""
    trick: str = ""
    homophones: bool = True
    pinyin: bool = True
    origin: str = ""  # "file:line", for error messages and `wtm keywords list`


@dataclass(frozen=True)
class SearchKeyword:
    """A keyword a spider sends to a site's search (Simplified; spiders convert per site)."""

    term: str
    species: str


@dataclass
class SpeciesEntry:
    key: str
    label: str
    terms: list[Term]
    search_keywords: list[SearchKeyword]
    context: list[str]
    innocent_context: list[str]
    veto: list[str]
    exclusions: list[str]
    cover_terms: list[str]
    cover_giveaways: list[str]
    cover_honest: list[str]
    cover_suspect: list[str]
    path: str


@dataclass
class OfferWords:
    """``context.yaml``'s ``offer``: words for what is on offer (``monitor.matching.offer``)."""

    forms: dict[str, list[str]] = field(default_factory=dict)   # in tie-break order
    pieces: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)       # grams per unit
    buying: list[str] = field(default_factory=list)
    buying_before: list[str] = field(default_factory=list)


@dataclass
class SharedContext:
    product: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    size_units: list[str] = field(default_factory=list)
    innocent: list[str] = field(default_factory=list)
    innocent_near: list[str] = field(default_factory=list)
    near_innocent: list[str] = field(default_factory=list)
    near_innocent_window: int = 6
    near_innocent_exceptions: list[str] = field(default_factory=list)
    negation_before: list[str] = field(default_factory=list)
    negation_before_exceptions: list[str] = field(default_factory=list)
    negation_before_names_only: list[str] = field(default_factory=list)
    negation_after: list[str] = field(default_factory=list)
    accessory_before: list[str] = field(default_factory=list)
    accessory_after: list[str] = field(default_factory=list)
    giveaways: list[str] = field(default_factory=list)
    trade: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    product_types: dict[str, list[str]] = field(default_factory=dict)
    offer: "OfferWords" = field(default_factory=lambda: OfferWords())
    regional: dict[str, str] = field(default_factory=dict)
    homophone_max_swaps: int = 1
    homophone_max_swaps_short: int = 2
    homophone_max_word_frequency: int = 20
    homophone_min_term_length: int = 2
    homophone_classes: list[list[str]] = field(default_factory=list)


def _parse_term(node: Node, species: str, shown: str, index: int) -> Term:
    where = f"terms[{index}]."
    if not isinstance(node.value, dict):
        raise KeywordFileError(f"{shown}:{node.line}: terms[{index}]: expected a mapping with term and kind")
    f = Fields(node, shown, where)
    f.check_keys({"term", "kind", "strength", "source", "trick", "homophones", "pinyin", "note"})
    term = f.text("term")
    kind = f.text("kind")
    if kind not in TERM_KINDS:
        raise f.fail("kind", f"must be one of {', '.join(TERM_KINDS)}, got {kind!r}", f.map["kind"].line)
    strength = f.text("strength", required=False, default="")
    if strength not in ("", "strong", "weak"):
        raise f.fail("strength", f"must be strong or weak, got {strength!r}", f.map["strength"].line)
    source = f.text("source", required=False)
    if kind == "code_word" and not source:
        raise f.fail("source", "every code word needs a source or reason")
    trick = f.text("trick", required=False)
    if trick and trick not in TRICKS:
        raise f.fail("trick", f"must be one of {', '.join(TRICKS)}", f.map["trick"].line)
    _check_emoji(f, term)
    strong = strength == "strong" if strength else kind != "code_word"
    return Term(
        term=term, species=species, kind=kind, strong=strong, source=source, trick=trick,
        homophones=f.flag("homophones", kind in ("name", "product")), pinyin=f.flag("pinyin", True),
        origin=f"{shown}:{node.line}",
    )


# Pictographs a term may be spelled with (🐘🦷, 🐯🦴): the matcher then reads them as word
# characters. Other symbols (✂, ★, ❤) stay separators and cannot be part of a term.
EMOJI_FIRST, EMOJI_LAST = 0x1F300, 0x1FAFF


def is_emoji(ch: str) -> bool:
    return EMOJI_FIRST <= ord(ch) <= EMOJI_LAST


def _check_emoji(f: Fields, term: str) -> None:
    """An emoji term holds pictographs and words only, so that every character of it is read."""
    for ch in term:
        if is_emoji(ch) or ch in "\u200d\ufe0f":
            continue
        if 0x2190 <= ord(ch) <= 0x2BFF or 0x1F000 <= ord(ch) <= 0x1F2FF or 0x1FB00 <= ord(ch) <= 0x1FFFF:
            raise f.fail("term", f"{ch!r} (U+{ord(ch):04X}) is read as a separator, not part of a word; "
                                 f"emoji terms use pictographs U+{EMOJI_FIRST:X}..U+{EMOJI_LAST:X}",
                         f.map["term"].line)
    if any(is_emoji(c) for c in term) and not any(c.isalnum() for c in term if not is_emoji(c)) \
            and sum(is_emoji(c) for c in term) < 2:
        raise f.fail("term", "a single emoji is not a term: pair the animal with its part (🐘🦷) or a word (🦏角)",
                     f.map["term"].line)


def _parse_species(path: Path, shown: str, groups: Sequence[Species]) -> SpeciesEntry:
    root = Fields(read_yaml(path, shown), shown)
    root.check_keys({"species", "label", "terms", "search_keywords", "context", "innocent_context",
                     "veto", "exclusions", "covers"})
    key = root.text("species")
    known = {g.key: g for g in groups}
    if key not in known:
        raise root.fail("species", f"unknown species key {key!r} (expected one of {', '.join(known)}; "
                                   f"a new group is declared in {SPECIES_FILE} first)", root.map["species"].line)
    terms_node = root.map.get("terms")
    if terms_node is None or not isinstance(terms_node.value, list) or not terms_node.value:
        raise root.fail("terms", "expected a non-empty list of terms",
                        terms_node.line if terms_node else None)
    terms = [_parse_term(n, key, shown, i) for i, n in enumerate(terms_node.value)]
    seen: dict[str, int] = {}
    for index, term in enumerate(terms):
        if term.term in seen:
            raise KeywordFileError(f"{term.origin}: terms[{index}].term: duplicate of terms[{seen[term.term]}] ({term.term})")
        seen[term.term] = index
    cover_terms: list[str] = []
    cover_giveaways: list[str] = []
    cover_honest: list[str] = []
    cover_suspect: list[str] = []
    covers = root.mapping("covers")
    if covers is not None:
        covers.check_keys({"terms", "giveaways", "honest", "suspect"})
        cover_terms = covers.words("terms", required=True)
        cover_giveaways = covers.words("giveaways")
        cover_honest = covers.words("honest")
        cover_suspect = covers.words("suspect")
        for index, word in enumerate(cover_suspect):
            if word not in cover_terms:
                raise covers.fail(f"suspect[{index}]", f"{word!r} is not one of covers.terms", covers.map["suspect"].line)
    return SpeciesEntry(
        key=key,
        label=root.text("label", required=False, default=known[key].en),
        terms=terms,
        search_keywords=[SearchKeyword(w, key) for w in root.words("search_keywords", required=True)],
        context=root.words("context"),
        innocent_context=root.words("innocent_context"),
        veto=root.words("veto"),
        exclusions=root.words("exclusions"),
        cover_terms=cover_terms,
        cover_giveaways=cover_giveaways,
        cover_honest=cover_honest,
        cover_suspect=cover_suspect,
        path=shown,
    )


def _parse_shared(directory: Path, shown_dir: str) -> SharedContext:
    shared = SharedContext()
    path = directory / "context.yaml"
    if path.exists():
        shown = f"{shown_dir}/context.yaml"
        f = Fields(read_yaml(path, shown), shown)
        f.check_keys({"product", "units", "size_units", "innocent", "innocent_near", "near_innocent", "negation_before",
                      "negation_before_exceptions", "negation_before_names_only", "negation_after", "accessory_before", "accessory_after",
                      "giveaways", "trade", "prices", "product_types", "offer"})
        shared.product = f.words("product")
        shared.units = f.words("units")
        shared.size_units = f.words("size_units")
        shared.innocent = f.words("innocent")
        shared.innocent_near = f.words("innocent_near")
        near = f.mapping("near_innocent")
        if near is not None:
            near.check_keys({"window", "words", "exceptions"})
            shared.near_innocent_window = near.integer("window", 6)
            shared.near_innocent = near.words("words")
            shared.near_innocent_exceptions = near.words("exceptions")
        shared.negation_before = f.words("negation_before")
        shared.negation_before_exceptions = f.words("negation_before_exceptions")
        shared.negation_before_names_only = f.words("negation_before_names_only")
        shared.negation_after = f.words("negation_after")
        shared.accessory_before = f.words("accessory_before")
        shared.accessory_after = f.words("accessory_after")
        shared.giveaways = f.words("giveaways")
        shared.trade = f.words("trade")
        shared.prices = f.words("prices")
        types = f.mapping("product_types")
        if types is not None:
            for name in types.map:
                if not name.replace("_", "").isalnum() or not name.islower():
                    raise types.fail(name, "a product type is named in lower-case letters, digits and _",
                                     types.map[name].line)
                shared.product_types[name] = types.words(name, required=True)
        offer = f.mapping("offer")
        if offer is not None:
            shared.offer = _parse_offer(offer)
    path = directory / "regional.yaml"
    if path.exists():
        shown = f"{shown_dir}/regional.yaml"
        f = Fields(read_yaml(path, shown), shown)
        f.check_keys({"vocabulary"})
        vocab = f.mapping("vocabulary")
        if vocab is not None:
            for word, target in vocab.map.items():
                if not isinstance(target.value, str) or not target.value.strip():
                    raise vocab.fail(word, "expected the mainland word to replace it with", target.line)
                shared.regional[word] = target.value.strip()
    path = directory / "homophones.yaml"
    if path.exists():
        shown = f"{shown_dir}/homophones.yaml"
        f = Fields(read_yaml(path, shown), shown)
        f.check_keys({"generate", "extra_classes"})
        gen = f.mapping("generate")
        if gen is not None:
            gen.check_keys({"max_swaps", "max_swaps_two_characters", "max_word_frequency", "min_term_length"})
            shared.homophone_max_swaps = gen.integer("max_swaps", 1)
            shared.homophone_max_swaps_short = gen.integer("max_swaps_two_characters", 2)
            shared.homophone_max_word_frequency = gen.integer("max_word_frequency", 20)
            shared.homophone_min_term_length = gen.integer("min_term_length", 2)
        classes = f.map.get("extra_classes")
        if classes is not None:
            if not isinstance(classes.value, list):
                raise f.fail("extra_classes", "expected a list of character lists", classes.line)
            for index, group in enumerate(classes.value):
                chars = group.value
                if not isinstance(chars, list) or not all(
                    isinstance(c.value, str) and len(c.value) == 1 for c in chars
                ):
                    raise f.fail(f"extra_classes[{index}]", "expected a list of single characters", group.line)
                shared.homophone_classes.append([c.value for c in chars])
    return shared


OFFER_FORMS = ("raw_tusk", "segment", "whole_horn", "casque", "scale", "bone", "skin", "worked")


def _parse_offer(f: Fields) -> OfferWords:
    f.check_keys({"forms", "pieces", "sets", "weights", "buying", "buying_before"})
    out = OfferWords(pieces=f.words("pieces"), sets=f.words("sets"), buying=f.words("buying"),
                     buying_before=f.words("buying_before"))
    forms = f.mapping("forms")
    if forms is not None:
        for name in forms.map:
            if name not in OFFER_FORMS:
                raise forms.fail(name, f"must be one of {', '.join(OFFER_FORMS)}, got {name!r}", forms.map[name].line)
            out.forms[name] = forms.words(name, required=True)
    weights = f.mapping("weights")
    if weights is not None:
        for unit in weights.map:
            grams = weights.integer(unit, 0)
            if grams < 1:
                raise weights.fail(unit, "expected the grams in one unit, a whole number of at least 1",
                                   weights.map[unit].line)
            out.weights[unit] = grams
    return out


class Lexicon:
    """Every species file plus the shared context, with a content-hash version.

    ``groups`` are the species groups of ``species.yaml`` in its order; ``species`` their keys.
    """

    def __init__(self, species: dict[str, SpeciesEntry], shared: SharedContext, version: str, source: str,
                 groups: Sequence[Species]) -> None:
        self._species = species
        self.shared = shared
        self.version = version
        self.source = source
        self.groups: tuple[Species, ...] = tuple(groups)

    @classmethod
    def load(cls, directory: Path | str | None = None) -> "Lexicon":
        """Read and validate a lexicon folder (default: the shipped ``monitor.keywords`` data)."""
        if directory is None:
            base = Path(str(resources.files("monitor.keywords")))
        else:
            base = Path(directory)
        if not base.is_dir():
            raise KeywordFileError(f"{base}: lexicon folder does not exist")
        shown_dir = str(base)
        groups = load_species(base)
        files = sorted(p for p in base.glob("*.yaml") if p.name not in SHARED_FILES)
        digest = hashlib.sha256()  # every file, species.yaml included
        for path in sorted(base.glob("*.yaml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        species: dict[str, SpeciesEntry] = {}
        for path in files:
            entry = _parse_species(path, f"{shown_dir}/{path.name}", groups)
            if entry.key in species:
                raise KeywordFileError(
                    f"{entry.path}:1: species: {entry.key} is already defined in {species[entry.key].path}"
                )
            species[entry.key] = entry
        missing = [g.key for g in groups if g.key not in species]
        if missing:
            raise KeywordFileError(f"{shown_dir}: no lexicon file for species: {', '.join(missing)} "
                                   f"(listed in {SPECIES_FILE})")
        shared = _parse_shared(base, shown_dir)
        ordered = {g.key: species[g.key] for g in groups}
        return cls(ordered, shared, digest.hexdigest()[:16], shown_dir, groups)

    @property
    def species(self) -> list[str]:
        """The species keys in ``species.yaml``'s order."""
        return [g.key for g in self.groups if g.key in self._species]

    def group(self, species: str) -> Species:
        """A species group's names, colour and legal basis (KeyError for an unknown key)."""
        for g in self.groups:
            if g.key == species:
                return g
        raise KeyError(f"unknown species {species!r}")

    def entry(self, species: str) -> SpeciesEntry:
        return self._species[species]

    @property
    def emoji(self) -> frozenset[str]:
        """The pictographs terms are spelled with (🦷 in 🐘🦷): word characters to the normaliser."""
        return frozenset(c for t in self.terms() for c in t.term if is_emoji(c))

    def terms(self, species: str | None = None) -> list[Term]:
        keys = [species] if species else self.species
        return [t for k in keys for t in self._species[k].terms]

    def search_keywords(self, species: str | None = None) -> list[SearchKeyword]:
        if species is not None and species not in self._species:
            raise KeyError(f"unknown species {species!r}")
        keys = [species] if species else self.species
        seen: set[tuple[str, str]] = set()
        out = []
        for k in keys:
            for kw in self._species[k].search_keywords:
                if (kw.term, kw.species) not in seen:
                    seen.add((kw.term, kw.species))
                    out.append(kw)
        return out
