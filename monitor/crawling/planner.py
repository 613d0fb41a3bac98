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

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from monitor.crawling.query_candidates import Candidate, is_cjk_word, lexicon_candidates
from monitor.crawling.query_coverage import covered_by_substring, covered_by_words, dedupe_key
from monitor.crawling.query_yields import (
    YIELD_WINDOW, YieldBook, YieldSummary, expected_rate, factor, prior_rate, query_key,
)
from monitor.crawling.sites import SiteConfig
from monitor.matching.lexicon import Lexicon


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
# A name's expected yield never falls below this share of its prior.
NAME_FLOOR = 0.5
# Priors are spread by up to this share per site and query, so sites try different rare
# spellings first and the network learns about more of them each month.
JITTER = 0.25
# Estimated result pages of a query never run (see default_cost).
BROAD_COST, NARROW_COST = 2, 1
# Kinds whose spellings are many and alike: each site tries them in its own order (JITTER).
DISGUISES = ("traditional", "separator", "pinyin_mix", "homophone")


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
        key = dedupe_key(site_query, mode)
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
    covered = covered_by_substring(kept)
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
        covered = covered_by_words(kept)

    # 2. Order by expected yield.
    def expect(cand: Candidate, site_query: str) -> tuple[float, YieldSummary | None, str]:
        key = query_key(site_query)
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
    return all(is_cjk_word(t) for t in texts)


def default_cost(cand: Candidate) -> int:
    """Result pages a query never run is expected to take: a name of one or two characters
    (象牙, 犀角) is in many ads, other words and disguised spellings rarely fill a page."""
    broad = cand.kind == "plain" and cand.rank == 0 and len(cand.text) <= 2
    return BROAD_COST if broad else NARROW_COST


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
