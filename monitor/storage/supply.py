"""Dealers' supply by product form: what the month's new flagged ads offer, and how much.

The seed briefing's table (tusks, segments and blocks, whole horns, casques, worked items) from
what the matcher read of each flag (``monitor.matching.offer``, stored as ``listings.offer_form``,
``offer_quantity`` and ``intent``). Ads that buy in (收/求购, ``intent == "buy"``) are trade too,
but demand, not supply: they are counted apart, never added to the offers.

The ads are those the rest of the report counts as new in the month, as known at the end of
the as-of month (``newness.new_in``: backlog and ads an analyst rejected left out); the offer is
read as stored now (month snapshots keep the verdict, not the offer). Volumes are the quantities the ads state, summed
per unit (pieces, grams, sets; one ad states at most one); an ad stating none adds to its form's
ads but to no volume. Dealers are the distinct dealers (contacts shared across ads) behind the
ads; an ad with no contact has none. A flag stored before the offer was read (schema 0007) has
no form: it is counted under ``unknown``, as an offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.matching.lexicon import OFFER_FORMS
from monitor.storage.models import Listing, MonthListing
from monitor.storage.newness import new_in, resolve
from monitor.storage.timeutil import check_month

__all__ = ["FORMS", "INTENTS", "UNITS", "SupplyRow", "supply_by_form"]

FORMS = (*OFFER_FORMS, "unknown")
INTENTS = ("sell", "buy")
UNITS = ("piece", "gram", "set")


@dataclass
class SupplyRow:
    """One product form's ads of one intent; ``form == "total"`` sums the intent's rows (its
    dealers counted once however many forms they offer)."""

    intent: str
    form: str
    ads: int = 0
    dealers: int = 0
    volume: dict[str, float] = field(default_factory=lambda: dict.fromkeys(UNITS, 0))
    unstated: int = 0  # ads that state no quantity

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "form": self.form, "ads": self.ads, "dealers": self.dealers,
                "pieces": _whole(self.volume["piece"]), "grams": _whole(self.volume["gram"]),
                "sets": _whole(self.volume["set"]), "unstated": self.unstated}


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def _amount(quantity: Any) -> tuple[str, float] | None:
    if not isinstance(quantity, dict) or quantity.get("unit") not in UNITS:
        return None
    try:
        amount = float(quantity.get("amount"))
    except (TypeError, ValueError):
        return None
    return (quantity["unit"], amount) if amount > 0 else None


def supply_by_form(s: Session, month: str, as_of: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """intent ("sell", "buy") -> a row per product form with ads (in ``FORMS`` order), then the
    intent's total row; an intent without ads has no rows."""
    as_of = resolve(s, check_month(month), as_of)
    rows: dict[tuple[str, str], SupplyRow] = {}
    dealers: dict[tuple[str, str], set[int]] = {}
    for form, quantity, intent, dealer in s.execute(
        select(Listing.offer_form, Listing.offer_quantity, Listing.intent, MonthListing.dealer_id)
        .join(Listing, Listing.id == MonthListing.listing_id).where(new_in(s, month, as_of))
    ):
        intent = "buy" if intent == "buy" else "sell"
        form = form if form in FORMS else "unknown"
        for key in ((intent, form), (intent, "total")):
            row = rows.setdefault(key, SupplyRow(intent, key[1]))
            row.ads += 1
            stated = _amount(quantity)
            if stated is None:
                row.unstated += 1
            else:
                row.volume[stated[0]] += stated[1]
            if dealer is not None:
                dealers.setdefault(key, set()).add(dealer)
    for key, row in rows.items():
        row.dealers = len(dealers.get(key, ()))
    return {intent: [rows[(intent, form)].to_dict() for form in (*FORMS, "total") if (intent, form) in rows]
            for intent in INTENTS}
