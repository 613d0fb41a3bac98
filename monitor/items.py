"""What a spider yields: one listing as one marketplace showed it at one moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# How a revisit finds a listing gone (``ListingItem.removal_kind``), defined once: the
# spiders set these and the report names each in both languages.
REMOVAL_KINDS = ("http_404", "http_410", "deleted_page", "redirect_home")


@dataclass
class ListingItem:
    """A listing as scraped; pipelines fill the derived fields (price_cny, contacts, ...).

    Spiders set the raw fields only. ``status`` is ``"live"`` for a listing that
    answered, or ``"removed"`` when a revisit found it gone (``removal_kind`` then says
    how: ``http_404``, ``http_410``, ``deleted_page``, ``redirect_home``).

    ``unread`` marks a removed listing that was already gone on its first visit: it was
    never read, so only what the results page showed is known (title, and price, place or
    date where the page shows them). It is stored and counted apart, never as a live ad.
    """

    site: str
    external_id: str
    url: str
    title: str = ""
    description: str = ""
    price_text: str = ""
    location: str = ""
    seller: str = ""
    contact_text: str = ""
    posted_text: str = ""
    keyword: str = ""
    status: str = "live"
    removal_kind: str = ""
    unread: bool = False
    fetched_at: datetime | None = None
    # Raw response kept for evidence: body bytes, the encoding the crawl read them in, and the
    # media type the server gave (so the workbench serves a GBK or Big5 page back readable).
    raw_body: bytes = b""
    raw_encoding: str = ""
    raw_content_type: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Filled by pipelines.
    price_amount: float | None = None
    price_currency: str = ""
    price_cny: float | None = None
    posted_at: datetime | None = None
    contacts: list[tuple[str, str]] = field(default_factory=list)
