"""Query planning: what each site is searched for this month, from the lexicon and last months' yields.

A marketplace only shows an ad to a crawl that searches for the words the ad is written in, so the
plan searches for what the matcher would flag: the lexicon's names, product words, code words and
cover terms, and the disguised spellings the lexicon already knows how to undo (Traditional script
and regional wording, separators wedged into names, pinyin mixes, same-sound characters). Each
candidate is turned into the site's script (``SiteConfig.site_keyword``) and kept only when the
site's charset can encode it.

How a site's search matches decides what is worth sending (the site file's ``search_match``):

* ``substring``: a query finds every ad containing it, so a query containing another kept query
  finds nothing more (``象牙手镯`` once ``象牙`` is sent) and is skipped, unless the site caps its
  results (``search.cap``). Every separator is its own query (``象 牙`` does not find ``象*牙``),
  and a separator between two characters of a name (``羚*羊``) finds every spelling that splits
  the name there (``羚*羊角``, ``羚*羊*角``).
* ``segmented``: the site cuts text and query into words, so any separator is a word boundary:
  ``象 牙`` finds ``象*牙`` but ``象牙`` does not. One separator form per placement is sent, and
  a disguised name is also sent inside its product words (``希角杯``: a word index cuts the ad
  ``希角杯`` into 希 / 角杯, which ``希角`` does not find). A query whose words (as jieba cuts
  them) include all of another's (``象牙麻将``: 象牙 / 麻将) likely finds nothing more: it is
  tried later, not skipped, since the site may cut otherwise.
* ``unknown``: nothing is assumed; no query is skipped as covered by another.

Each query's yield (result pages spent, listings found, flagged listings new to the database) is
stored per site and month (``monitor.storage.yields``). The plan orders the queries by the new
flagged listings per request expected of them (``expected_rate``): a prior by kind and rank,
scaled by how the kind has done on all sites lately (``kind_rates``), moved by what the query did
on the other sites (a spelling that brings ads on one site is tried on the others) and then by
what it did on this one; ties go to the listings found per request. It fills the per-site request
budget in that order, keeping a rotation share for the low-yield queries tried longest ago, so a
code word that returns is not lost. A species' own names are never dropped for a few quiet months.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from monitor.crawling.sites import SiteConfig
from monitor.matching.lexicon import Lexicon, Term
from monitor.matching.normalise import SEPARATOR_CHARS

# Prior order of the kinds of query, for queries never run (lower first).
KINDS = ("plain", "code_word", "cover", "traditional", "separator", "pinyin_mix", "homophone")

# Share of the budget kept for low-yield queries tried longest ago.
ROTATION_SHARE = 0.15
# requests_per_site is every request of a site's crawl. Searching gets what the site's last crawl
# spent elsewhere (revisits, listing pages, browsing) leaves; a first crawl, with nothing to go
# by, leaves FIRST_CRAWL_OTHER of the budget (15-40 % on the sandbox) plus its walk pages; and
# searching never gets under MIN_SEARCH_SHARE.
FIRST_CRAWL_OTHER = 0.15
MIN_SEARCH_SHARE = 1 / 3
# Pages a walk is counted for when its category gives no max_pages.
WALK_PAGES_UNCAPPED = 10
# Months of yields a plan reads, and how much each older month counts (a month ago counts 1).
YIELD_WINDOW = 6
YIELD_DECAY = 0.7
# New flagged listings per request expected of a query never run anywhere, by kind, before the
# yields say otherwise (kind_rates); each rank down within the kind halves it, and a query
# containing a shorter candidate is CONTAINED_RANKS down (on a substring search it is skipped).
KIND_PRIOR = {"plain": 0.10, "code_word": 0.08, "cover": 0.06, "traditional": 0.05, "separator": 0.04,
              "pinyin_mix": 0.04, "homophone": 0.04}
RANK_DECAY = 0.5
CONTAINED_RANKS = 2
# A name's expected yield never falls below this share of its prior.
NAME_FLOOR = 0.5
# Requests' worth of evidence each kind's prior is worth against the yields of all queries of
# the kind on all sites.
KIND_WEIGHT = 50.0
# How many requests' worth of evidence the prior is worth against other sites' yields, and
# other sites' yields against this site's own.
PRIOR_WEIGHT = 4.0
NETWORK_WEIGHT = 2.0
# Priors are spread by up to this share per site and query, so sites try different rare
# spellings first and the network learns about more of them each month.
JITTER = 0.25
# Estimated result pages of a query never run (see default_cost).
BROAD_COST, NARROW_COST = 2, 1
# Kinds whose spellings are many and alike: each site tries them in its own order (JITTER).
DISGUISES = ("traditional", "separator", "pinyin_mix", "homophone")
# Same-sound spellings per name from pypinyin's readings alone (the curated classes of
# homophones.yaml are all kept): the most common characters first.
MAX_READING_HOMOPHONES = 40
# Disguised spellings of a name up to this rank are also searched inside its product words.
COMPOUND_MAX_RANK = 0
# Separators, in the normaliser's order, share a rank this many at a time (space * / \ first).
SEPARATORS_PER_RANK = 2
# Requests' worth of evidence a kind's rate is worth against the yields of one of its styles
# (one separator: if 象*牙 brings ads, 犀*角 is tried sooner).
STYLE_WEIGHT = 20.0

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z]", re.I)


def separators() -> tuple[str, ...]:
    """Separators sellers can type, in the order the normaliser lists them: the characters it
    strips from between a name's characters (monitor.matching.normalise), space first."""
    pattern = SEPARATOR_CHARS.pattern
    typable = " *" + "".join(chr(c) for c in range(0x21, 0x7f) if not chr(c).isalnum()) + "\u00b7\u3000"
    found = [c for c in typable if SEPARATOR_CHARS.fullmatch(c)]

    def position(ch: str) -> int:
        if ch == " ":
            return -1
        for escaped in ("\\" + ch, f"\\u{ord(ch):04x}", ch):
            at = pattern.find(escaped)
            if at >= 0:
                return at
        return len(pattern)

    return tuple(dict.fromkeys(sorted(found, key=position)))


# -- candidates from the lexicon --------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A query the lexicon suggests, before any site is considered.

    ``text`` is what the spider is given (Simplified, or a Traditional/regional spelling that the
    site's conversion leaves alone); ``rank`` orders candidates of one kind (0: most likely);
    ``fragment`` marks part of a name (two of its characters with a separator between them, or
    the name less its first or last character), useful only where search matches substrings."""

    text: str
    kind: str
    species: str
    source: str
    rank: int = 0
    fragment: bool = False


_CANDIDATES: dict[tuple[str, int], tuple[Candidate, ...]] = {}


def lexicon_candidates(lexicon: Lexicon, max_separators: int | None = None) -> tuple[Candidate, ...]:
    """Every candidate query of the lexicon, in prior order (cached per lexicon version)."""
    seps = separators()[: max_separators or None]
    key = (lexicon.version, len(seps))
    if key not in _CANDIDATES:
        _CANDIDATES[key] = tuple(_build_candidates(lexicon, seps))
    return _CANDIDATES[key]


def _is_cjk_word(text: str) -> bool:
    return bool(text) and all(_CJK.match(c) for c in text)


def _build_candidates(lexicon: Lexicon, seps: Sequence[str]) -> list[Candidate]:
    from monitor.matching.variants import pinyin_variants

    out: list[Candidate] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, kind: str, species: str, source: str, rank: int = 0, fragment: bool = False) -> None:
        text = text.strip()
        if not text or (text, species) in seen:
            return
        seen.add((text, species))
        out.append(Candidate(text, kind, species, source, rank, fragment))

    terms = lexicon.terms()
    code_words = {t.term for t in terms if t.kind == "code_word"}
    covers: dict[str, set[str]] = {}
    suspect: set[str] = set()
    for sp in lexicon.species:
        entry = lexicon.entry(sp)
        for word in entry.cover_terms:
            covers.setdefault(word, set()).add(sp)
        suspect.update(entry.cover_suspect)

    # 1. The lexicon's search keywords, each under the kind it is; then its other words.
    base: list[Candidate] = []
    for kw in lexicon.search_keywords():
        word = kw.term
        if word in covers:
            kind, rank = "cover", 0 if word in suspect else 2
        elif word in code_words or (word.isascii() and " " not in word):
            kind, rank = "code_word", 0
        elif _LATIN.search(word) and _CJK.search(word):
            kind, rank = "pinyin_mix", 0
        else:
            kind, rank = "plain", 0
        add(word, kind, kw.species, word, rank)
    for t in terms:
        kind = "code_word" if t.kind == "code_word" else "plain"
        english = not _CJK.search(t.term)
        add(t.term, kind, t.species, t.term, 3 if english else 1)
    for sp in lexicon.species:
        for word in lexicon.entry(sp).cover_terms:
            add(word, "cover", sp, word, 0 if word in suspect else 2)
    base = list(out)

    # 2. Traditional and regional spellings of the words (sellers on Simplified sites write them
    #    to dodge filters; Traditional sites convert every query anyway).
    regional = [(mainland, word) for word, mainland in lexicon.shared.regional.items()
                if _is_cjk_word(word) and _is_cjk_word(mainland)]
    for cand in base:
        if not _CJK.search(cand.text):
            continue
        for form in _traditional_forms(cand.text, regional):
            add(form, "traditional", cand.species, cand.source, cand.rank)

    # 3. Disguised spellings of the names, as the matcher undoes them.
    names = _disguisable_names(terms, lexicon.search_keywords())
    for t in names:
        for form, rank, fragment in _separator_forms(t.term, seps):
            add(form, "separator", t.species, t.term, rank, fragment)
    for t in names:
        if not t.pinyin:
            continue
        for form, rank, fragment in _pinyin_forms(t.term, pinyin_variants):
            add(form, "pinyin_mix", t.species, t.term, rank, fragment)
    for form, species, source, rank in _homophone_forms(lexicon, [t for t in names if t.homophones]):
        add(form, "homophone", species, source, rank)
    for t in names:
        # where search matches substrings, 顶红 finds every spelling of 鹤顶红 that changes only its
        # first character (合顶红, he顶红, 鹤 顶红), 鹤顶 those changing its last
        if t.homophones and len(t.term) >= 3:
            add(t.term[1:], "homophone", t.species, t.term, 0, True)
            add(t.term[:-1], "homophone", t.species, t.term, 0, True)

    # 4. The likeliest of those inside the product words (希角杯, xi角片): where search goes by
    #    words, 希角 does not find 希角杯, which a word index cuts 希 / 角杯. (Where search matches
    #    substrings, the name's spelling covers them.)
    likely: dict[tuple[str, str], list[Candidate]] = {}
    for c in out:
        if c.kind in ("homophone", "pinyin_mix") and c.rank <= COMPOUND_MAX_RANK and not c.fragment:
            likely.setdefault((c.species, c.source), []).append(c)
    products = [(k.species, k.term) for k in lexicon.search_keywords()]
    products += [(t.species, t.term) for t in terms if t.kind == "product"]
    for species, word in dict.fromkeys(products):
        if not _is_cjk_word(word):
            continue
        for t in names:
            if t.species == species and t.term in word and t.term != word:
                for c in likely.get((species, t.term), []):
                    add(word.replace(t.term, c.text, 1), c.kind, species, word, c.rank + 1)
                break
    # Prior order: by rank, then kind; within them the species take turns (象牙, 犀角, 玳瑁, ...
    # then 象牙手镯, 犀角杯, ...), each in the lexicon's order.
    order = {k: i for i, k in enumerate(KINDS)}
    species_order = {k: i for i, k in enumerate(lexicon.species)}
    turn: dict[tuple[int, str, str], int] = {}
    position = {}
    for c in out:
        group = (c.rank, c.kind, c.species)
        position[id(c)] = turn[group] = turn.get(group, -1) + 1
    return sorted(out, key=lambda c: (c.rank, order[c.kind], position[id(c)], species_order.get(c.species, 99)))


def _disguisable_names(terms: Sequence[Term], search_keywords: Sequence[Any] = ()) -> list[Term]:
    """The names whose disguises are searched: Chinese names the lexicon generates variants of,
    except those containing a shorter name of the species (非洲象牙 holds 象牙, whose disguised
    spellings are searched), most used first (in the most search keywords and product words)."""
    names = [t for t in terms if t.kind == "name" and _is_cjk_word(t.term) and (t.pinyin or t.homophones)]
    minimal = [t for t in names
               if not any(o.species == t.species and o.term != t.term and o.term in t.term for o in names)]
    words = [t.term for t in terms if t.kind in ("name", "product")] + [k.term for k in search_keywords]
    use = {t.term: sum(1 for w in words if t.term in w) for t in minimal}
    order = {t.term: i for i, t in enumerate(minimal)}
    return sorted(minimal, key=lambda t: (-use[t.term], order[t.term]))


def _traditional_forms(text: str, regional: list[tuple[str, str]]) -> list[str]:
    from monitor.crawling.sites import _converter

    spellings = {text}
    for mainland, word in regional:
        if mainland in text:
            spellings.add(text.replace(mainland, word))
    forms: list[str] = []
    for spelling in sorted(spellings, key=lambda s: (s != text, s)):
        for variant in ("s2t", "s2tw", "s2twp", "s2hk"):
            form = _converter(variant).convert(spelling)
            if form != text and form not in forms:
                forms.append(form)
    return forms


def _separator_forms(name: str, seps: Sequence[str]) -> list[tuple[str, int, bool]]:
    """The name split by each separator: between every character, at each single place, and
    (fragments) two neighbouring characters with the separator between them."""
    out: list[tuple[str, int, bool]] = []
    n = len(name)
    if n < 2:
        return out
    for index, sep in enumerate(seps):
        rank = index // SEPARATORS_PER_RANK
        out.append((sep.join(name), rank, False))
        if n > 2:
            for i in range(1, n):
                out.append((name[:i] + sep + name[i:], rank + 1, False))
            for i in range(n - 1):
                out.append((name[i] + sep + name[i + 1], rank, True))
    return out


def _pinyin_forms(name: str, pinyin_variants: Any) -> list[tuple[str, int, bool]]:
    """Mixes of characters and pinyin the matcher knows (象ya, xiang牙, x牙), ranked: one full
    syllable first, initials next, several syllables last."""
    from pypinyin import lazy_pinyin

    out: list[tuple[str, int, bool]] = []
    full = [s.lower() for s in lazy_pinyin(name)]
    if len(full) != len(name):
        return out
    for v in pinyin_variants(name, initials_alone=True):
        if v.trick != "pinyin_mix":
            continue
        pieces = _split_mix(v.text, name, full)
        if pieces is None:
            continue
        syllables = sum(1 for p in pieces if p == "syllable")
        initials = sum(1 for p in pieces if p == "initial")
        rank = 0 if syllables == 1 and initials == 0 else (1 if syllables + initials == 1 else 2)
        out.append((v.text, rank, False))
    return out


def _split_mix(text: str, name: str, full: list[str]) -> list[str] | None:
    """How each character of ``name`` is written in the mix ``text``: char, syllable or initial."""
    pieces: list[str] = []
    at = 0
    for ch, syl in zip(name, full):
        if text.startswith(ch, at):
            pieces.append("char")
            at += 1
        elif text.startswith(syl, at):
            pieces.append("syllable")
            at += len(syl)
        elif text.startswith(syl[0], at):
            pieces.append("initial")
            at += 1
        else:
            return None
    return pieces if at == len(text) else None


def _homophone_forms(lexicon: Lexicon, names: list[Term]) -> list[tuple[str, str, str, int]]:
    """Same-sound spellings of the names: swaps within the curated classes of homophones.yaml
    first (rank 0 for one character, 1 for two), then single swaps from pypinyin's readings, the
    most common characters first (rank 2 and up), at most MAX_READING_HOMOPHONES per name.
    Spellings that are ordinary words in jieba's dictionary are dropped, as the matcher drops them."""
    from monitor.matching.segmenter import stock_frequencies
    from monitor.matching.variants import homophone_variants

    shared = lexicon.shared
    classes: dict[str, set[str]] = {}
    for group in shared.homophone_classes:
        for ch in group:
            classes.setdefault(ch, set()).update(group)
    generated: list[tuple[Term, list[str]]] = []
    wanted: set[str] = set()
    for t in names:
        if len(t.term) < shared.homophone_min_term_length:
            continue
        swaps = shared.homophone_max_swaps_short if len(t.term) == 2 else shared.homophone_max_swaps
        texts = [v.text for v in homophone_variants(t.term, shared.homophone_classes, max_swaps=swaps)]
        generated.append((t, texts))
        wanted.update(texts)
        wanted.update(c for text in texts for c in text)
    frequencies = stock_frequencies(wanted)
    real = {x.term for x in lexicon.terms()}
    out: list[tuple[str, str, str, int]] = []
    for t, texts in generated:
        curated: list[tuple[str, int]] = []
        readings: list[tuple[str, int]] = []
        for text in texts:
            if text in real or frequencies.get(text, 0) > shared.homophone_max_word_frequency:
                continue
            swapped = [i for i, (a, b) in enumerate(zip(t.term, text)) if a != b]
            if all(text[i] in classes.get(t.term[i], ()) for i in swapped):
                curated.append((text, 0 if len(swapped) == 1 else 1))
            elif len(swapped) == 1:
                readings.append((text, frequencies.get(text[swapped[0]], 0)))
        out.extend((text, t.species, t.term, rank) for text, rank in curated)
        readings.sort(key=lambda pair: -pair[1])
        for position, (text, _) in enumerate(readings[:MAX_READING_HOMOPHONES]):
            out.append((text, t.species, t.term, 2 + position // 5))
    return out


# -- yields -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class YieldSummary:
    """What a query did in the months a plan reads. The weighted figures count a month ago fully
    and older months less (YIELD_DECAY per month)."""

    requests: int
    found: int
    flagged_new: int
    runs: int
    last_month: str
    w_requests: float
    w_found: float
    w_flagged: float

    @property
    def cost(self) -> int:
        """Result pages one run of the query is expected to take."""
        return max(1, math.ceil(self.requests / max(1, self.runs)))

    @property
    def found_rate(self) -> float:
        return self.w_found / self.w_requests if self.w_requests else 0.0

    def text(self) -> str:
        return (f"{self.flagged_new} new flagged, {self.found} found in {self.requests} requests "
                f"over {self.runs} month{'s' if self.runs != 1 else ''} (last {self.last_month})")


def _months_between(earlier: str, later: str) -> int:
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


class _Tally:
    """Running sums of one query's yields (on one site, or several)."""

    __slots__ = ("requests", "found", "flagged_new", "runs", "last_month", "w_requests", "w_found", "w_flagged")

    def __init__(self) -> None:
        self.requests = self.found = self.flagged_new = self.runs = 0
        self.last_month = ""
        self.w_requests = self.w_found = self.w_flagged = 0.0

    def add(self, other: "_Tally", sign: int = 1) -> None:
        for name in ("requests", "found", "flagged_new", "runs", "w_requests", "w_found", "w_flagged"):
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def summary(self, last_month: str | None = None) -> YieldSummary:
        return YieldSummary(self.requests, self.found, self.flagged_new, self.runs, last_month or self.last_month,
                            self.w_requests, self.w_found, self.w_flagged)


class YieldBook:
    """Stored yields read once for planning every site: per site and query, and over all sites.

    ``rows`` are ``monitor.storage.yields.YieldRecord`` (anything with ``site``, ``month``,
    ``query``, ``kind``, ``requests``, ``found`` and ``flagged_new``). Only the ``window`` months
    before ``month`` count, a month ago fully and older months less (YIELD_DECAY per month);
    rows of ``month`` itself and later are ignored, so a month's plan is the same before and
    after its crawl."""

    def __init__(self, rows: Iterable[Any], month: str, window: int = YIELD_WINDOW) -> None:
        self.month = month
        self.by_site: dict[str, dict[str, _Tally]] = {}
        self.total: dict[str, _Tally] = {}
        self.latest: dict[str, list[tuple[str, str]]] = {}  # query -> [(last month, site)], latest first
        rows = list(rows)
        self.kinds = kind_rates(rows, month, window)
        months_seen: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            age = _months_between(row.month, month)
            if not 1 <= age <= window:
                continue
            site, key, weight = getattr(row, "site", ""), _key(row.query), YIELD_DECAY ** (age - 1)
            tally = self.by_site.setdefault(site, {}).setdefault(key, _Tally())
            tally.requests += row.requests
            tally.found += row.found
            tally.flagged_new += row.flagged_new
            tally.w_requests += weight * row.requests
            tally.w_found += weight * row.found
            tally.w_flagged += weight * row.flagged_new
            tally.last_month = max(tally.last_month, row.month)
            months_seen.setdefault((site, key), set()).add(row.month)
        for (site, key), months in months_seen.items():
            tally = self.by_site[site][key]
            tally.runs = len(months)
            self.total.setdefault(key, _Tally()).add(tally)
            self.latest.setdefault(key, []).append((tally.last_month, site))
        for entries in self.latest.values():
            entries.sort(reverse=True)

    def own(self, site: str) -> dict[str, YieldSummary]:
        """The site's own yields per query."""
        return {key: tally.summary() for key, tally in self.by_site.get(site, {}).items()}

    def others(self, site: str, key: str) -> YieldSummary | None:
        """What the query did on the other sites, or None when no other site ran it."""
        total = self.total.get(key)
        if total is None:
            return None
        last = next((m for m, s in self.latest[key] if s != site), None)
        if last is None:
            return None
        mine = self.by_site.get(site, {}).get(key)
        if mine is None:
            return total.summary(last)
        rest = _Tally()
        rest.add(total)
        rest.add(mine, -1)
        return rest.summary(last)


def summarise_yields(rows: Iterable[Any], month: str, window: int = YIELD_WINDOW,
                     exclude_site: str | None = None) -> dict[str, YieldSummary]:
    """Per query (as sites receive it, case folded), its yields in the ``window`` months before
    ``month``, summed over the sites of ``rows`` (but ``exclude_site``); see ``YieldBook``."""
    book = YieldBook([r for r in rows if exclude_site is None or getattr(r, "site", None) != exclude_site],
                     month, window)
    return {key: tally.summary() for key, tally in book.total.items()}


def _key(query: str) -> str:
    return query.casefold()


def style(kind: str, query: str) -> tuple[str, str]:
    """The kind of a query and, for a separator spelling, the separator it uses."""
    if kind == "separator":
        found = SEPARATOR_CHARS.search(query)
        return kind, found.group(0) if found else ""
    return kind, ""


def kind_rates(rows: Iterable[Any], month: str, window: int = YIELD_WINDOW) -> dict[tuple[str, str], float]:
    """Per kind, and per style within it (``style``), how many times its prior the queries have
    yielded on all sites lately (1.0 without yields): a kind, or a separator, whose spellings
    bring new flagged ads is tried more. Look a style up with ``factor``."""
    flagged: dict[tuple[str, str], float] = {}
    requests: dict[tuple[str, str], float] = {}
    for row in rows:
        age = _months_between(row.month, month)
        kind = getattr(row, "kind", "")
        if kind in KIND_PRIOR and 1 <= age <= window:
            weight = YIELD_DECAY ** (age - 1)
            for cell in {(kind, ""), style(kind, row.query)}:
                flagged[cell] = flagged.get(cell, 0.0) + weight * row.flagged_new
                requests[cell] = requests.get(cell, 0.0) + weight * row.requests
    out: dict[tuple[str, str], float] = {}
    for kind, base in KIND_PRIOR.items():
        rate = (flagged.get((kind, ""), 0.0) + KIND_WEIGHT * base) / (requests.get((kind, ""), 0.0) + KIND_WEIGHT)
        out[(kind, "")] = rate / base
        for cell in [c for c in requests if c[0] == kind and c[1]]:
            out[cell] = (flagged[cell] + STYLE_WEIGHT * rate) / (requests[cell] + STYLE_WEIGHT) / base
    return out


def factor(rates: Mapping[tuple[str, str], float], kind: str, query: str) -> float:
    """A query's prior factor from ``kind_rates``: its style's, else its kind's."""
    return rates.get(style(kind, query), rates.get((kind, ""), 1.0))


def prior_rate(cand: Candidate, contained: bool = False, kind_factor: float = 1.0) -> float:
    """New flagged listings per request expected of a query never run anywhere: by its kind (as
    the kind has done lately, ``kind_rates``) and its rank within the kind, less for a query
    containing a shorter one (likely to find nothing more)."""
    rank = cand.rank + (CONTAINED_RANKS if contained else 0)
    return KIND_PRIOR[cand.kind] * kind_factor * RANK_DECAY ** rank


def expected_rate(prior: float, network: YieldSummary | None, own: YieldSummary | None) -> float:
    """New flagged listings per request expected on the site: the prior, moved towards what the
    query did on the other sites, then towards what it did on this one (each as much as its
    requests weigh against PRIOR_WEIGHT and NETWORK_WEIGHT)."""
    rate = prior
    if network is not None:
        rate = (network.w_flagged + PRIOR_WEIGHT * rate) / (network.w_requests + PRIOR_WEIGHT)
    if own is not None:
        rate = (own.w_flagged + NETWORK_WEIGHT * rate) / (own.w_requests + NETWORK_WEIGHT)
    return rate


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedQuery:
    """One query of a site's plan. ``query`` is what the spider is given; ``site_query`` what the
    site receives (in its script); ``cost`` the result pages it is expected to take; ``expected``
    the new flagged listings per request expected of it; ``last`` its yields on this site."""

    query: str
    site_query: str
    kind: str
    species: str
    source: str
    reason: str
    cost: int
    expected: float = 0.0
    last: YieldSummary | None = None
    rotation: bool = False


@dataclass(frozen=True)
class SkippedQuery:
    query: str
    site_query: str
    kind: str
    species: str
    why: str


@dataclass
class SitePlan:
    """A site's queries for one month, in the order they are sent, and the candidates left out."""

    site: str
    month: str
    budget: int  # search result pages
    search_match: str
    queries: list[PlannedQuery] = field(default_factory=list)
    skipped: list[SkippedQuery] = field(default_factory=list)
    requests: int = 0  # every request of the crawl (requests_per_site); 0: only searching was planned
    kept_for: str = ""  # why requests - budget are left to revisits, listing pages and browsing

    @property
    def keywords(self) -> list[str]:
        return [q.query for q in self.queries]

    @property
    def kinds(self) -> dict[str, str]:
        return {q.query: q.kind for q in self.queries}

    @property
    def estimated_requests(self) -> int:
        return sum(q.cost for q in self.queries)

    def to_job(self) -> dict[str, Any]:
        """What the crawl worker needs: the queries in order and each one's kind."""
        return {"queries": self.keywords, "kinds": self.kinds}


def plan_for_site(
    lexicon: Lexicon,
    site: SiteConfig,
    yields: Iterable[Any],
    month: str,
    budget: int,
    *,
    network: Iterable[Any] = (),
    rotation_share: float = ROTATION_SHARE,
    candidates: Sequence[Candidate] | None = None,
    book: YieldBook | None = None,
) -> SitePlan:
    """The site's queries for ``month`` within ``budget`` result-page requests.

    ``yields`` are the site's stored yields (``monitor.storage.yields.YieldRecord``), ``network``
    those of the other sites (a query that brings new flagged ads elsewhere is tried here sooner);
    ``book``, a ``YieldBook`` of every site's yields, replaces both when many sites are planned.

    Steps: 1. every candidate in the site's script, dropping duplicates after conversion, those
    the site's charset cannot encode, and (on an uncapped substring search) those containing
    another candidate; 2. order by the new flagged listings per request expected (``expected_rate``:
    the prior by kind, moved by the other sites' yields, then by this site's), then by listings
    found per request; 3. fill the budget less the rotation share in that order, then the rest of
    the budget with the low-yield queries run longest ago here (then those never run)."""
    mode = site.search_match
    cap = site.search_cap
    plan = SitePlan(site=site.name, month=month, budget=budget, search_match=mode)
    if site.search is None or site.crawl == "category":
        return plan
    if book is None:
        yields = [r if getattr(r, "site", None) == site.name else replace_site(r, site.name) for r in yields]
        book = YieldBook([r for r in network if getattr(r, "site", None) != site.name] + yields, month)
    own = book.own(site.name)
    names = {t.term for t in lexicon.terms() if t.kind == "name"}
    factors = book.kinds
    pool = list(candidates if candidates is not None else lexicon_candidates(lexicon))

    # 1. What the site would be sent, once each.
    kept: list[tuple[Candidate, str]] = []
    by_key: dict[str, tuple[Candidate, str]] = {}
    for cand in pool:
        if cand.fragment and mode != "substring":
            continue  # a fragment only stands for longer spellings where search matches substrings
        site_query = site.site_keyword(cand.text).strip()
        if not site_query:
            continue
        try:
            site_query.encode(site.charset)
        except UnicodeEncodeError as exc:
            bad = site_query[exc.start:exc.end]
            plan.skipped.append(SkippedQuery(cand.text, site_query, cand.kind, cand.species,
                                             f"{site.charset} cannot encode {bad}"))
            continue
        key = _dedupe_key(site_query, mode)
        if key in by_key:
            first, first_query = by_key[key]
            if first_query.casefold() == site_query.casefold():
                why = f"same as {first.text!r} ({first.kind}) in the site's script"
            else:
                why = f"same query as {first_query!r} on this site (its search cuts words at separators)"
            plan.skipped.append(SkippedQuery(cand.text, site_query, cand.kind, cand.species, why))
            continue
        by_key[key] = (cand, site_query)
        kept.append((cand, site_query))
    covered = _covered(kept)
    hidden: list[tuple[Candidate, str]] = []  # covered on a substring search: their coverer finds their ads
    if mode == "substring" and not cap:
        for cand, site_query in kept:
            if site_query in covered:
                plan.skipped.append(SkippedQuery(cand.text, site_query, cand.kind, cand.species,
                                                 f"covered by {covered[site_query]!r} (substring search)"))
        hidden = [(c, q) for c, q in kept if q in covered]
        kept = [(c, q) for c, q in kept if q not in covered]
    if mode == "segmented":
        # a word index finds for 象牙麻将 (象牙 / 麻将) only ads 象牙 finds: likely, not certain,
        # as the site may cut words otherwise than jieba does
        covered = _covered_by_words(kept)

    # 2. Order by expected yield.
    def expect(cand: Candidate, site_query: str) -> tuple[float, YieldSummary | None, str]:
        key = _key(site_query)
        mine, theirs = own.get(key), book.others(site.name, key)
        contained = site_query in covered and (mode == "segmented" or _all_cjk(site_query, covered[site_query]))
        prior = prior_rate(cand, contained=contained, kind_factor=factor(factors, cand.kind, site_query))
        if cand.kind in DISGUISES:  # sites try disguised spellings in different orders (lexicon words in its own)
            prior *= 1.0 + JITTER * _hash01(site.name, site_query)
        rate = expected_rate(prior, theirs, mine)
        if cand.kind == "plain" and cand.text in names:
            # a species' own name is never dropped for a few quiet months: where search goes by
            # words, no other query finds the ads that name it (鹤顶 does not find 鹤顶红)
            rate = max(rate, NAME_FLOOR * prior)
        if mine is not None:
            reason = f"here: {mine.text()}"
        elif theirs is not None:
            reason = f"never run here; other sites: {theirs.text()}"
        else:
            reason = f"never run; prior: {cand.kind}, rank {cand.rank}"
        return rate, mine, reason

    # A query that covers others on a substring search finds their ads too: it is worth the best of them.
    inherited: dict[str, tuple[float, str]] = {}
    for cand, site_query in hidden:
        rate, _, _ = expect(cand, site_query)
        if rate > inherited.get(covered[site_query], (0.0, ""))[0]:
            inherited[covered[site_query]] = (rate, site_query)
    ranked = []
    for index, (cand, site_query) in enumerate(kept):
        rate, mine, reason = expect(cand, site_query)
        best = inherited.get(site_query)
        if best is not None and best[0] > rate:
            rate, reason = best[0], f"{reason}; finds what {best[1]!r} would"
        ranked.append((-rate, -(mine.found_rate if mine else 0.0), index, cand, site_query, mine, rate, reason))
    ranked.sort(key=lambda r: r[:3])

    # 3. Budget: the main share in order, then the rotation share on the longest-unrun low-yield ones.
    budget = max(0, int(budget))
    low_yield_here = [r for r in ranked if r[5] is not None and r[5].flagged_new == 0]
    reserve = int(round(budget * rotation_share)) if low_yield_here else 0
    spent = 0
    chosen: set[int] = set()
    planned: list[PlannedQuery] = []
    for _, _, index, cand, site_query, mine, rate, reason in ranked:
        cost = mine.cost if mine else default_cost(cand)
        if spent + cost > budget - reserve:
            continue
        spent += cost
        chosen.add(index)
        planned.append(PlannedQuery(cand.text, site_query, cand.kind, cand.species, cand.source,
                                    f"{reason}; expects {rate:.3f}/request", cost, rate, mine))
    rotation = [r for r in ranked if r[2] not in chosen]
    rotation.sort(key=lambda r: (r[5] is None, r[5].last_month if r[5] else "", r[0]))
    for _, _, index, cand, site_query, mine, rate, reason in rotation:
        cost = mine.cost if mine else default_cost(cand)
        if spent + cost > budget:
            continue
        spent += cost
        chosen.add(index)
        why = f"rotation: {reason}" if mine else f"rotation: {reason}"
        planned.append(PlannedQuery(cand.text, site_query, cand.kind, cand.species, cand.source, why, cost, rate,
                                    mine, True))
    for _, _, index, cand, site_query, mine, rate, reason in ranked:
        if index not in chosen:
            plan.skipped.append(SkippedQuery(cand.text, site_query, cand.kind, cand.species,
                                             f"over budget ({reason}; expects {rate:.3f}/request)"))
    plan.queries = planned
    return plan


def _hash01(*parts: str) -> float:
    import hashlib

    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def _all_cjk(*texts: str) -> bool:
    return all(_is_cjk_word(t) for t in texts)


def default_cost(cand: Candidate) -> int:
    """Result pages a query never run is expected to take: a name of one or two characters
    (象牙, 犀角) is in many ads, other words and disguised spellings rarely fill a page."""
    broad = cand.kind == "plain" and cand.rank == 0 and len(cand.text) <= 2
    return BROAD_COST if broad else NARROW_COST


def _dedupe_key(site_query: str, mode: str) -> str:
    key = site_query.casefold()
    if mode == "segmented":
        # the site cuts at any separator: 象*牙 and 象/牙 are the query 象 牙
        key = " ".join(SEPARATOR_CHARS.sub(" ", key).split())
    return key


def _covered(kept: list[tuple[Candidate, str]]) -> dict[str, str]:
    """Each query containing another (shorter) candidate, with that candidate (the shortest): on a
    substring search it finds nothing the shorter one does not."""
    folded = {q.casefold(): q for _, q in kept}
    out: dict[str, str] = {}
    for _, site_query in kept:
        key = site_query.casefold()
        for length in range(1, len(key)):
            cover = next((folded[key[i:i + length]] for i in range(len(key) - length + 1)
                          if key[i:i + length] in folded), None)
            if cover is not None:
                out[site_query] = cover
                break
    return out


def _covered_by_words(kept: list[tuple[Candidate, str]]) -> dict[str, str]:
    """Each query whose words (as jieba cuts them) include all the words of another candidate."""
    from itertools import combinations

    words = {q: _words(q) for _, q in kept}
    by_words: dict[frozenset[str], str] = {}
    for q, w in words.items():
        if w:
            by_words.setdefault(w, q)
    out: dict[str, str] = {}
    for _, site_query in kept:
        mine = sorted(words[site_query])
        found = None
        for size in range(1, min(len(mine), 6)):
            found = next((by_words[frozenset(c)] for c in combinations(mine, size) if frozenset(c) in by_words), None)
            if found is not None:
                break
        if found is not None:
            out[site_query] = found
    return out


_TOKENIZER: Any = None


def _words(text: str) -> frozenset[str]:
    """The words a word-index search would cut ``text`` into, as jieba's stock dictionary cuts
    them (spaces and punctuation are no words)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        import logging

        import jieba

        from monitor.matching.segmenter import cache_dir

        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir())
        tokenizer.cache_file = "jieba-planner.cache"
        tokenizer.initialize()
        _TOKENIZER = tokenizer
    return _cut(text.lower())


@lru_cache(maxsize=65536)
def _cut(text: str) -> frozenset[str]:
    return frozenset(w for w in _TOKENIZER.cut(text, HMM=False) if any(ch.isalnum() for ch in w))


def with_search_match(site: SiteConfig, search_match: str, cap: int | None = None) -> SiteConfig:
    """A copy of ``site`` searching as given (for tests and what-if plans)."""
    return replace(site, search_match=search_match, search_cap=cap)


def walk_pages(site: SiteConfig) -> int:
    """The most result pages the site's category walks request in one crawl."""
    if site.crawl == "search" or site.category is None:
        return 0
    per_walk = site.category.max_pages or site.max_pages or WALK_PAGES_UNCAPPED
    return len(site.category.urls) * per_walk


def search_budget(site: SiteConfig, requests: int, other: int | None) -> tuple[int, str]:
    """Result pages the site's searching may take of its ``requests``, and why the rest is kept:
    ``other`` is what its last crawl spent on everything else (None: never crawled)."""
    requests = max(0, int(requests))
    if site.search is None or site.crawl == "category":
        return 0, "the site is only browsed"
    if other is None:
        walks = walk_pages(site)
        other = int(round(requests * FIRST_CRAWL_OTHER)) + walks
        why = (f"a first crawl: {FIRST_CRAWL_OTHER:.0%} of the budget for listing pages"
               + (f", {walks} for browsing" if walks else ""))
    else:
        why = "its last crawl's revisits, listing pages and browsing"
    floor = int(round(requests * MIN_SEARCH_SHARE))
    return max(floor, requests - other), why


def plan_sites(
    config: Any,
    sites: Mapping[str, SiteConfig],
    month: str,
    db: Any = None,
    budget: int | None = None,
    lexicon: Lexicon | None = None,
) -> dict[str, SitePlan]:
    """Each site's plan for ``month`` from the configured lexicon and the yields stored in ``db``
    (None: no yields, the prior order alone), its searching within what ``budget`` requests
    (default: ``requests_per_site``) leave after the site's other requests (``search_budget``)."""
    from monitor.months import shift_month

    if lexicon is None:
        lexicon = Lexicon.load(config.keywords_dir or None)
    stored: dict[str, list[Any]] = {}
    if db is not None:
        from monitor.storage.yields import site_yields

        stored = site_yields(db, None, before=month, since=shift_month(month, -YIELD_WINDOW))
    book = YieldBook([row for rows in stored.values() for row in rows], month)
    limit = int(budget if budget is not None else config.requests_per_site)
    other: dict[str, int] = {}
    if db is not None:
        from monitor.storage.yields import other_requests

        other = other_requests(db, sites, before=month)
    plans = {}
    for name, site in sites.items():
        pages, why = search_budget(site, limit, other.get(name))
        plan = plan_for_site(lexicon, site, (), month, pages, book=book)
        plan.requests, plan.kept_for = limit, why
        plans[name] = plan
    return plans


def replace_site(row: Any, site: str) -> Any:
    """``row`` as a yield of ``site`` (rows given as a site's own need not name it)."""
    from types import SimpleNamespace

    return SimpleNamespace(site=site, month=row.month, query=row.query, kind=getattr(row, "kind", ""),
                           requests=row.requests, found=row.found, flagged_new=row.flagged_new)
