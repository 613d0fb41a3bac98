"""The simulated world: every listing of every site over a calendar of months.

The world is built once from a seed (same seed, same world, same bytes on the wire). A
listing lives from the month it is posted until it expires, the platform removes it or a
takedown request makes the platform remove it; the truth of a month is read off that.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import threading
from itertools import accumulate
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date

from monitor.sandbox import generator as G
from monitor.sandbox import phrases as P
from monitor.sandbox.sites import CNY_PER, FAULT_SHARE, SITES, SITES_BY_NAME, Category, SandboxSite

# The sites the network began with: their weights and dealers are drawn among them alone, so a
# site that joins later adds its own listings and changes none of theirs.
FOUNDERS: tuple[SandboxSite, ...] = tuple(s for s in SITES if not s.newcomer)

FIRST_MONTH = "2024-01"
N_MONTHS = 24
PREHISTORY = 6          # months simulated before the first served month, so it starts full
NEW_PER_MONTH = 750
N_DEALERS = 170
N_SHOPS = 320
# Share of the dealers of its regions a site that joined later (SandboxSite.newcomer) draws.
NEWCOMER_DEALERS = 0.25


def month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_day(month: str) -> date:
    idx = month_index(month)
    year, mon = idx // 12, idx % 12 + 1
    return date(year, mon, monthrange(year, mon)[1])


def hash01(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by its parts: faults and takedowns use it."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(slots=True)
class Listing:
    site: str
    external_id: str
    posted: date
    posted_time: str
    posted_idx: int
    end_idx: int                 # first month it is no longer live (natural end)
    end_reason: str              # "expired" | "platform"
    kind: str                    # "illegal" | "lookalike" | "ordinary"
    species: list[str]
    tricks: list[str]
    title: str
    description: str
    price_text: str
    price_amount: float | None
    price_high: float | None
    currency: str
    location: str
    seller: Seller
    contact_text: str            # what the site's contact/phone field shows
    contacts: list[dict[str, str]]
    replies: list[tuple[str, str]] = field(default_factory=list)
    min_order: str = ""
    repost_of: str = ""
    takedown_idx: int | None = None
    takedown_requested: str = ""
    search_text: str = ""
    seller_name: str = ""
    resembles: list[str] = field(default_factory=list)  # lookalikes: the species they could be taken for
    edit_idx: int | None = None  # from this month on the seller has cut the price
    edit_price: tuple[str, float | None, float | None] | None = None
    topic: str = ""              # what it is about (phrases.TITLE_TOPIC / PRODUCT_TOPIC): decides its category
    filed: tuple[str, ...] = ()  # keys of the site's categories it is filed under (index.file_listing)
    tokens: frozenset[str] | None = None  # its words for a segmented site's index, made on first search

    def at(self, idx: int) -> "Listing":
        """The listing as shown in month ``idx`` (after any price edit)."""
        if self.edit_idx is None or idx < self.edit_idx or self.edit_price is None:
            return self
        text, amount, high = self.edit_price
        return dataclasses.replace(self, price_text=text, price_amount=amount, price_high=high)

    @property
    def removed_idx(self) -> int:
        return self.end_idx if self.takedown_idx is None else min(self.end_idx, self.takedown_idx)

    @property
    def price_cny(self) -> float | None:
        if self.price_amount is None:
            return None
        return round(self.price_amount * CNY_PER[self.currency], 2)

    def live_in(self, idx: int) -> bool:
        return self.posted_idx <= idx < self.removed_idx


Seller = G.Seller


class Sandbox:
    """The deterministic world of 31 marketplaces (see SITES.md for how each one looks)."""

    def __init__(self, seed: int = 20120101, first_month: str = FIRST_MONTH, n_months: int = N_MONTHS) -> None:
        self.seed = seed
        start = month_index(first_month)
        self.months: list[str] = [month_name(start + i) for i in range(n_months)]
        self.sites: list[SandboxSite] = list(SITES)
        self._start = start
        self._lock = threading.Lock()
        self.version = 0  # bumped by takedowns so servers drop cached pages
        self._listings: dict[str, list[Listing]] = {}
        self._by_id: dict[tuple[str, str], Listing] = {}
        self._gen_lock = threading.Lock()
        self._search_cache: dict[tuple, tuple[tuple[str, ...], int]] = {}
        self._reach_cache: dict[tuple, frozenset[str]] = {}
        self._listed_cache: dict[tuple[str, int, int], list[Listing]] = {}
        self._truth_cache: dict[tuple[int, int], list[dict]] = {}
        rng = random.Random(self.seed)
        self._dealers = self._make_dealers(rng)
        self._dealers_on = {s.name: [d for d in self._dealers if s.name in d.sites] for s in FOUNDERS}
        self._dealers_on.update({s.name: self._recruits(s) for s in SITES if s.newcomer})
        self._shops_by_region: dict[str, list[Seller]] = {"cn": [], "tw": [], "hk": []}
        for i in range(N_SHOPS):
            shop = G.make_seller(rng, f"S{i:04d}", rng.choice(["cn"] * 8 + ["tw", "hk"]), dealer=False)
            self._shops_by_region[shop.region].append(shop)

    # -- public API -------------------------------------------------------------------
    def site(self, name: str) -> SandboxSite:
        return SITES_BY_NAME[name]

    def listing(self, site: str, external_id: str, month: str | None = None) -> Listing | None:
        """A listing by id; with ``month``, as it reads that month (edited price)."""
        if site not in SITES_BY_NAME:
            return None
        self.site_listings(site)
        item = self._by_id.get((site, external_id))
        if item is not None and month is not None:
            item = item.at(month_index(month))
        return item

    def check_month(self, month: str) -> int:
        if month not in self.months:
            raise ValueError(f"month {month!r} is outside the simulated calendar {self.months[0]}..{self.months[-1]}")
        return month_index(month)

    def today(self, month: str) -> date:
        return last_day(month)

    def month_listings(self, site: str, month: str) -> list[Listing]:
        """Listings live in the month or removed during it (newest first)."""
        idx = self.check_month(month)
        return [x.at(idx) for x in reversed(self.site_listings(site)) if x.posted_idx <= idx <= x.removed_idx]

    def listed(self, site: str, month: str) -> list[str]:
        """External ids a complete, uncapped index of the site holds in ``month``, newest first:
        live listings, and on stale_index sites those removed this month. No page shows this
        list whole; search and category pages show the parts of it they match."""
        return [x.external_id for x in self._listed(site, self.check_month(month))]

    def search(self, site: str, keyword: str, month: str) -> list[str]:
        """External ids the site's search returns for ``keyword`` in ``month``, in page order.

        Each site searches its own text as written (a Traditional site finds nothing for a
        Simplified-only keyword) the site's way: substring or segmented words (SITES.md),
        and shows no more than its ``result_cap``. An empty keyword finds nothing.
        """
        return list(self.search_results(site, keyword, month)[0])

    def search_results(self, site: str, keyword: str, month: str) -> tuple[tuple[str, ...], int]:
        """(ids the search pages show, in order; how many listings match: the count the page prints)."""
        from monitor.sandbox import index

        idx = self.check_month(month)
        key = (site, keyword, idx, self.version)
        cached = self._search_cache.get(key)
        if cached is None:
            spec = SITES_BY_NAME[site]
            test = index.matcher(spec, keyword)
            items = self._listed(site, idx)
            hits = [x.external_id for x in items if test(x)] if test is not None else []
            cached = (tuple(hits[:spec.result_cap]), len(hits))
            if len(self._search_cache) > 50000:
                self._search_cache.clear()
            self._search_cache[key] = cached
        return cached

    def categories(self, site: str) -> list[Category]:
        """The site's categories in the order its home page links them (none on a third of the sites)."""
        return list(SITES_BY_NAME[site].categories)

    def category(self, site: str, key: str, month: str) -> list[str]:
        """External ids a walk through every reachable page of category ``key`` finds, in page order."""
        return list(self.category_results(site, key, month)[0])

    def category_results(self, site: str, key: str, month: str) -> tuple[tuple[str, ...], int]:
        """(ids the category pages show, in order; how many listings the category holds)."""
        spec = SITES_BY_NAME[site]
        category = spec.category(key)
        if category is None:
            raise KeyError(f"{site} has no category {key!r}")
        idx = self.check_month(month)
        cache_key = (site, "\x00category", key, idx, self.version)
        cached = self._search_cache.get(cache_key)
        if cached is None:
            ids = [x.external_id for x in self._listed(site, idx) if key in x.filed]
            cap = None if category.max_pages is None else category.max_pages * spec.page_size
            cached = (tuple(ids[:cap]), len(ids))
            self._search_cache[cache_key] = cached
        return cached

    def reached_by(self, site: str, external_id: str, month: str, queries: list[str],
                   categories: list[str] | None = None) -> dict[str, list[str]]:
        """Which of these searches (keywords as sent to the site, in its script) and category walks
        (default: every category of the site) reach the listing in ``month``, caps respected."""
        keys = [c.key for c in SITES_BY_NAME[site].categories] if categories is None else categories
        return {"queries": [q for q in queries if external_id in self._reachable(site, q, month, False)],
                "categories": [k for k in keys if external_id in self._reachable(site, k, month, True)]}

    def _reachable(self, site: str, what: str, month: str, category: bool) -> frozenset[str]:
        key = (site, what, month, category, self.version)
        found = self._reach_cache.get(key)
        if found is None:
            ids = self.category_results(site, what, month)[0] if category else self.search_results(site, what, month)[0]
            found = self._reach_cache[key] = frozenset(ids)
            if len(self._reach_cache) > 50000:
                self._reach_cache.clear()
        return found

    def _listed(self, site: str, idx: int) -> list[Listing]:
        """Listings the site's index holds in month ``idx`` (newest first), as generated."""
        key = (site, idx, self.version)
        items = self._listed_cache.get(key)
        if items is None:
            stale = "stale_index" in SITES_BY_NAME[site].faults
            items = []
            for item in reversed(self.site_listings(site)):
                if item.posted_idx > idx:
                    continue
                removed = item.removed_idx
                if removed > idx or (stale and removed == idx):
                    items.append(item)
            if len(self._listed_cache) > 2000:
                self._listed_cache.clear()
            self._listed_cache[key] = items
        return items

    def is_live(self, item: Listing, month: str) -> bool:
        return item.live_in(month_index(month))

    def login_walled(self, item: Listing) -> bool:
        spec = SITES_BY_NAME[item.site]
        return "login_wall" in spec.faults and hash01(self.seed, "login", item.site, item.external_id) < FAULT_SHARE["login_wall"]

    def request_takedown(self, urls: list[str], month: str) -> dict[str, str | None]:
        """Ask the platforms to remove these listings; returns url -> month it will vanish (or None).

        Each site carries out its own share of requests (``takedown_rate``), one or two
        months later, decided by a hash of seed, site and id so the outcome never depends
        on the order or grouping of requests.
        """
        idx = self.check_month(month)
        outcome: dict[str, str | None] = {}
        with self._lock:
            for url in urls:
                item = self.listing_by_url(url)
                if item is None or not item.live_in(idx):
                    outcome[url] = None
                    continue
                rate = SITES_BY_NAME[item.site].takedown_rate
                if not item.takedown_requested:
                    item.takedown_requested = month
                if hash01(self.seed, "takedown", item.site, item.external_id) >= rate:
                    outcome[url] = None
                    continue
                delay = 1 if hash01(self.seed, "delay", item.site, item.external_id) < 0.6 else 2
                when = idx + delay
                if item.takedown_idx is None or when < item.takedown_idx:
                    item.takedown_idx = when
                outcome[url] = month_name(min(item.removed_idx, when))
            self.version += 1
            self._search_cache.clear()
            self._reach_cache.clear()
            self._listed_cache.clear()
            self._truth_cache.clear()
        return outcome

    def listing_by_url(self, url: str) -> Listing | None:
        from monitor.sandbox.urls import parse_listing_url

        found = parse_listing_url(url)
        if found is None:
            return None
        return self.listing(*found)

    def truth(self, month: str) -> list[dict]:
        """Every listing live in ``month`` or removed during it, with what a crawl should find."""
        idx = self.check_month(month)
        key = (idx, self.version)
        rows = self._truth_cache.get(key)
        if rows is None:
            rows = self._truth_rows(idx)
            self._truth_cache[key] = rows
        return [dict(row) for row in rows]

    def _truth_rows(self, idx: int) -> list[dict]:
        from monitor.sandbox.urls import api_url, listing_url

        rows = []
        month = month_name(idx)
        for spec in self.sites:
            shown = {c.key: set(self.category_results(spec.name, c.key, month)[0]) for c in spec.categories}
            for item in self.site_listings(spec.name):
                if item.posted_idx > idx or item.removed_idx < idx:
                    continue
                edited = item.edit_idx is not None and idx >= item.edit_idx
                item = item.at(idx)
                removed = item.removed_idx == idx
                reason = ""
                if removed:
                    reason = "takedown" if item.takedown_idx == item.removed_idx else item.end_reason
                rows.append({
                    "site": item.site, "external_id": item.external_id,
                    "url": listing_url(spec, item.external_id), "api_url": api_url(spec, item.external_id),
                    "title": item.title, "description": item.description,
                    "price_text": item.price_text, "price_amount": item.price_amount,
                    "price_cny": item.price_cny, "currency": item.currency,
                    "location": item.location, "seller": item.seller_name,
                    "contact_text": item.contact_text, "contacts": item.contacts,
                    "posted_date": item.posted.isoformat(), "posted_time": item.posted_time,
                    "dealer_id": item.seller.seller_id,
                    "illegal": item.kind == "illegal", "species": item.species, "kind": item.kind,
                    "tricks": item.tricks, "script": spec.script, "archetype": spec.archetype,
                    "state": "removed" if removed else "live",
                    "removed_month": month_name(item.removed_idx) if removed else None,
                    "removal_kind": spec.removal if removed else None,
                    "removal_reason": reason or None,
                    "in_search": (not removed) or "stale_index" in spec.faults,
                    "login_wall": self.login_walled(item),
                    "repost_of": item.repost_of or None,
                    "takedown_requested": item.takedown_requested or None,
                    "first_month": month_name(item.posted_idx),
                    "edited": edited,
                    "lookalike_of": item.resembles,
                    "categories": [k for k, ids in shown.items() if item.external_id in ids],
                    "filed_in": list(item.filed),
                })
        return rows

    # -- generation --------------------------------------------------------------------
    def warm(self) -> None:
        """Generate every site and segment the segmented sites' listings now rather than on
        first use (about two seconds of CPU, half of it loading jieba's dictionary)."""
        from monitor.sandbox.index import listing_words

        for spec in self.sites:
            self.site_listings(spec.name)
        for spec in self.sites:
            if spec.search_mode == "segmented":
                for item in self.site_listings(spec.name):
                    listing_words(item)

    def site_listings(self, site: str) -> list[Listing]:
        """All listings a site ever has, oldest first; a site is generated on first use.

        Each site draws from its own random stream, so the order in which sites are first
        asked for never changes what they contain.
        """
        items = self._listings.get(site)
        if items is None:
            with self._gen_lock:
                items = self._listings.get(site)
                if items is None:
                    from monitor.sandbox.index import file_listing

                    spec = SITES_BY_NAME[site]
                    items = self._generate_site(spec)
                    for item in items:
                        item.filed = file_listing(spec, item, self.seed)
                    self._by_id.update(((site, x.external_id), x) for x in items)
                    self._listings[site] = items
        return items

    def _generate_site(self, spec: SandboxSite) -> list[Listing]:
        from monitor.sandbox.compose import compose_listing

        rng = random.Random(f"{self.seed}:{spec.name}")
        share = spec.weight / sum(s.weight for s in FOUNDERS)
        site_no = SITES.index(spec)
        next_id = 10_000 + int(hash01(self.seed, spec.name) * 80_000) * 10
        species_keys, species_cum = list(P.SPECIES_SHARE), list(accumulate(P.SPECIES_SHARE.values()))
        first, last = self._start - PREHISTORY, self._start + len(self.months)
        reposts: dict[int, list[Listing]] = {}
        items: list[Listing] = []
        person_no = 0
        for idx in range(first, last):
            progress = (idx - first) / max(1, last - first - 1)
            p_illegal = (0.13 - 0.08 * progress) * spec.illegal_bias
            month_factor = 0.82 + 0.36 * hash01(self.seed, "month", idx)
            n_new = int(round(NEW_PER_MONTH * share * month_factor * rng.uniform(0.85, 1.15)))
            jobs: list[Listing | None] = [None] * n_new + reposts.pop(idx, [])
            rng.shuffle(jobs)
            for original in jobs:
                species = ""
                if original is not None:
                    kind = "repost"
                else:
                    r = rng.random()
                    kind = "illegal" if r < p_illegal else "lookalike" if r < p_illegal + 0.05 else "ordinary"
                if kind == "illegal":
                    species = rng.choices(species_keys, cum_weights=species_cum)[0]
                if original is not None:
                    seller = original.seller
                elif kind == "illegal":
                    seller = self._dealer_for(rng, spec, species)
                elif rng.random() < 0.55:
                    seller = rng.choice(self._shops_by_region[self._region(rng, spec)])
                else:
                    person_no += 1
                    seller = G.make_seller(rng, f"P{site_no:02d}{person_no:04d}", self._region(rng, spec), dealer=False)
                next_id += rng.randint(3, 97)
                item = compose_listing(rng, self._as_seller_region(spec, seller), str(next_id), idx, kind, seller,
                                       original, progress, species)
                items.append(item)
                if item.kind == "illegal" and original is None and rng.random() < 0.18:
                    reposts.setdefault(item.end_idx + rng.randint(0, 1), []).append(item)
        items.sort(key=lambda x: (x.posted, x.posted_time, int(x.external_id)))
        return items

    @staticmethod
    def _region(rng: random.Random, spec: SandboxSite) -> str:
        """The region of a listing's seller: the site's, or one of its regions on a mixed site
        (only there is a number drawn, so the other sites' streams stay as they were)."""
        return rng.choice(spec.regions) if len(spec.regions) > 1 else spec.region

    @staticmethod
    def _as_seller_region(spec: SandboxSite, seller: Seller) -> SandboxSite:
        """On a mixed site a listing is written for its seller's region: currency, Traditional
        variant (s2tw or s2hk) and price marks (NT$ or HK$)."""
        if len(spec.regions) > 1 and seller.region in spec.regions and seller.region != spec.region:
            return dataclasses.replace(spec, region=seller.region)
        return spec

    def _recruits(self, spec: SandboxSite) -> list[Seller]:
        """Dealers of a newcomer's regions who also sell there, chosen by a hash (no draw from
        the shared stream): some of the dealers already on the founders come to it."""
        regions = spec.regions or (spec.region,)
        return [d for d in self._dealers
                if d.region in regions and hash01(self.seed, "recruit", spec.name, d.seller_id) < NEWCOMER_DEALERS]

    def _make_dealers(self, rng: random.Random) -> list[Seller]:
        dealers = []
        species_keys = list(P.SPECIES_SHARE)
        species_w = list(P.SPECIES_SHARE.values())
        for i in range(N_DEALERS):
            region = rng.choices(["cn", "tw", "hk"], [0.72, 0.16, 0.12])[0]
            dealer = G.make_seller(rng, f"D{i:04d}", region, dealer=True)
            first = rng.choices(species_keys, species_w)[0]
            dealer.species = (first,) if rng.random() < 0.7 else (first, rng.choices(species_keys, species_w)[0])
            same = [s.name for s in FOUNDERS if (s.region == region) or (region == "cn" and s.region == "cn")]
            if region == "hk" and rng.random() < 0.5:
                same += [s.name for s in FOUNDERS if s.archetype == "forum"]
            bias = [SITES_BY_NAME[n].illegal_bias for n in same]
            dealer.sites = sorted(set(rng.choices(same, bias, k=rng.randint(1, 4))))
            dealer.tricks = tuple(rng.sample(G.TRICKS, 2))
            dealers.append(dealer)
        return dealers

    def _dealer_for(self, rng: random.Random, spec: SandboxSite, species: str) -> Seller:
        dealers = self._dealers
        on_site = self._dealers_on[spec.name]
        specialists = [d for d in on_site if species in d.species]
        if specialists and rng.random() < 0.85:
            return rng.choice(specialists)
        if on_site and rng.random() < 0.9:
            return rng.choice(on_site)
        return rng.choice([d for d in dealers if d.region == spec.region] or dealers)
