"""How many illegal ads the matcher let through: the miss rate, estimated from analysts'
verdicts on the month's random sample of unflagged listings (issue 12, item 5).

The sample is ``review.unflagged_sample``: a fixed number per site, so a small site is sampled
more heavily than a large one. Each site is a stratum: its own rate (misses found among its
reviewed sample listings) is weighted by its share of the month's unflagged listings, and the
implied number of missed ads is that rate times all the month's unflagged listings (sites with
no reviewed sample assumed to miss at the same rate).

A sample listing's verdict is an ordinary review decision on it: ``confirmed`` (it is wildlife
trade: a miss) or ``rejected`` (it is not). Only decisions on listings in the sample count: an
unflagged listing an analyst found by searching is not a random draw. The sample is read as it
is drawn now: a verdict on a listing pushed out of it by listings of the month stored later (a
late or resumed crawl) no longer counts, and the listing that took its place waits for review.

The 95 % interval is Wilson's score interval, a closed formula (no statistics library needed),
at the stratified rate with the sample size shrunk by the design effect (Korn and Graubard's
effective sample size, never above the number reviewed), so a stratified sample is never
credited with more certainty than a simple random sample of the same size.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from sqlalchemy import false, func, select, true
from sqlalchemy.orm import Session

from monitor.storage.models import Listing, ReviewDecision, Site
from monitor.storage.review import SAMPLE_PER_SITE, unflagged_sample
from monitor.storage.timeutil import check_month

__all__ = ["MissEstimate", "Stratum", "estimate", "estimates", "wilson"]

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Stratum:
    """One site's part: its unflagged listings, sample listings drawn, reviewed and found missed."""

    site: str
    unflagged: int
    drawn: int
    reviewed: int
    missed: int


@dataclass(frozen=True)
class MissEstimate:
    """A month's miss rate; ``rate`` and the rest are None until a sample listing is reviewed."""

    month: str
    unflagged: int
    drawn: int
    reviewed: int
    missed: int
    rate: float | None = None
    low: float | None = None
    high: float | None = None
    strata: list[Stratum] = field(default_factory=list)

    @property
    def estimated(self) -> bool:
        return self.rate is not None

    @property
    def missed_ads(self) -> tuple[int, int, int] | None:
        """Implied missed ads among the month's unflagged listings: (estimate, low, high)."""
        if self.rate is None or self.low is None or self.high is None:
            return None
        return (round(self.rate * self.unflagged), math.floor(self.low * self.unflagged),
                math.ceil(self.high * self.unflagged))

    def to_dict(self) -> dict[str, Any]:
        implied = self.missed_ads
        return {"month": self.month, "unflagged": self.unflagged, "drawn": self.drawn, "reviewed": self.reviewed,
                "missed": self.missed, "rate": self.rate, "low": self.low, "high": self.high,
                "missed_ads": implied[0] if implied else None, "missed_ads_low": implied[1] if implied else None,
                "missed_ads_high": implied[2] if implied else None}


def wilson(rate: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``rate`` observed on ``n`` (> 0) draws."""
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


class _Open:
    """The open session, handed to ``unflagged_sample`` as the database it reads (one query)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @contextmanager
    def session(self) -> Iterator[Session]:
        yield self._session


def _unflagged_by_site(s: Session, month: str) -> dict[int, int]:
    rows = s.execute(select(Listing.site_id, func.count())
                     .where(Listing.first_seen_month == month, Listing.flagged == false(), Listing.unread == false())
                     .group_by(Listing.site_id))
    return {site_id: n for site_id, n in rows}


def _verdicts(s: Session, ids: list[int]) -> dict[int, tuple[int, str]]:
    """listing id -> (site id, current decision) for the sample listings decided."""
    out: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update((lid, (site_id, decision)) for lid, site_id, decision in s.execute(
            select(ReviewDecision.listing_id, Listing.site_id, ReviewDecision.decision)
            .join(Listing, Listing.id == ReviewDecision.listing_id)
            .where(ReviewDecision.current == true(), ReviewDecision.listing_id.in_(chunk))))
    return out


def estimate(s: Session, month: str, per_site: int = SAMPLE_PER_SITE) -> MissEstimate:
    """``month``'s miss rate from the reviewed part of its unflagged sample (module docstring)."""
    check_month(month)
    population = _unflagged_by_site(s, month)
    sample = unflagged_sample(_Open(s), month, per_site)  # type: ignore[arg-type]
    drawn: dict[int, int] = {}
    for site_id in s.execute(select(Listing.site_id).where(Listing.id.in_(sample))).scalars() if sample else ():
        drawn[site_id] = drawn.get(site_id, 0) + 1
    reviewed: dict[int, int] = {}
    missed: dict[int, int] = {}
    for site_id, decision in _verdicts(s, sample).values():
        reviewed[site_id] = reviewed.get(site_id, 0) + 1
        missed[site_id] = missed.get(site_id, 0) + (decision == "confirmed")
    names = dict(s.execute(select(Site.id, Site.name)).all())
    strata = sorted((Stratum(names.get(site_id, str(site_id)), population.get(site_id, 0), drawn.get(site_id, 0),
                             reviewed.get(site_id, 0), missed.get(site_id, 0))
                     for site_id in set(population) | set(drawn)), key=lambda st: st.site)
    total = sum(population.values())
    base = MissEstimate(month, total, sum(drawn.values()), sum(reviewed.values()), sum(missed.values()), strata=strata)
    return _with_rate(base) if base.reviewed else base


def _with_rate(base: MissEstimate) -> MissEstimate:
    """The stratified rate, its variance (with the finite-population correction) and the Wilson
    interval on the effective sample size."""
    judged = [st for st in base.strata if st.reviewed]
    weight_total = sum(max(st.unflagged, st.reviewed) for st in judged)
    rate = variance = 0.0
    for st in judged:
        weight = max(st.unflagged, st.reviewed) / weight_total
        p = st.missed / st.reviewed
        rate += weight * p
        variance += weight * weight * p * (1 - p) / st.reviewed * (1 - st.reviewed / max(st.unflagged, st.reviewed))
    n = float(base.reviewed)
    effective = min(n, rate * (1 - rate) / variance) if variance > 0 else n
    low, high = wilson(rate, effective)
    return MissEstimate(base.month, base.unflagged, base.drawn, base.reviewed, base.missed, rate, low, high, base.strata)


def estimates(s: Session, per_site: int = SAMPLE_PER_SITE) -> list[MissEstimate]:
    """Every month with unflagged listings, oldest first."""
    months = s.execute(select(Listing.first_seen_month).where(Listing.flagged == false()).distinct()).scalars()
    return [estimate(s, month, per_site) for month in sorted(m for m in months if m)]
