"""What each query has yielded, and what is expected of it: the planner's ordering.

Each query's yield (result pages spent, listings found, flagged listings new to the database) is
stored per site and month (``monitor.storage.yields``). A query is expected to bring new flagged
listings per request (``expected_rate``) by a prior for its kind and rank, scaled by how the kind
has done on all sites lately (``kind_rates``), moved by what the query did on the other sites
and then by what it did on this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from monitor.crawling.query_candidates import Candidate
from monitor.matching.separators import SEPARATOR_CHARS

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
# Requests' worth of evidence each kind's prior is worth against the yields of all queries of
# the kind on all sites.
KIND_WEIGHT = 50.0
# How many requests' worth of evidence the prior is worth against other sites' yields, and
# other sites' yields against this site's own.
PRIOR_WEIGHT = 4.0
NETWORK_WEIGHT = 2.0
# Requests' worth of evidence a kind's rate is worth against the yields of one of its styles
# (one separator: if 象*牙 brings ads, 犀*角 is tried sooner).
STYLE_WEIGHT = 20.0


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
            site, key, weight = getattr(row, "site", ""), query_key(row.query), YIELD_DECAY ** (age - 1)
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


def query_key(query: str) -> str:
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
